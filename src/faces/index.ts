export type { DetectedFace, EyeLandmarks, FaceBox, FaceDetectorKind, Point, RgbImage } from './types.js';
export { createFaceDetector, type FaceDetector, type FaceDetectorOptions } from './detectFaces.js';
export { cropFace, cropFaceSync, type CropFaceOptions } from './cropFace.js';
export { eyeLineAngle } from './geometry.js';
export { FaceModelError, faceModelDir } from './faceModels.js';
