export type { DetectedFace, EyeLandmarks, FaceBox, Point } from './types.js';
export type { Pixels } from '../pixels/pixels.js';
export { FACE_DETECTORS, type FaceDetectorKind } from '../input/preprocessSpec.js';
export { createFaceDetector, type FaceDetector, type FaceDetectorOptions } from './detectFaces.js';
export { cropFace, cropFaceSync, type CropFaceOptions } from './cropFace.js';
export { eyeLineAngle } from './geometry.js';
export { FaceModelError, faceModelDir } from './faceModels.js';
