/**
 * happysad: train, evaluate, run and serve happy/sad image classifiers.
 * The library API mirrors the CLI: discoverDataset → cleanDataset → train → evaluate → loadModel().predict().
 *
 * The HTTP server, Keras interop and the face detectors are subpaths (`happysad/serve`,
 * `happysad/keras`, `happysad/faces`), so importing the core loads neither fastify nor h5wasm.
 * Importing changes no global state: TensorFlow.js' backend is set (to WASM) by initEngine(),
 * which the first loadModel(), train() or evaluate() calls.
 */
export { initEngine } from './engine/engine.js';
export { HappysadError, DatasetError, ImageError, BundleError, OptionError } from './base/errors.js';
export { discoverDataset, type DiscoveredDataset, type DatasetFile, type Split } from './data/discoverDataset.js';
export { cleanDataset, quarantineFiles, type CleanReport, type CleanProblem, type CleanOptions } from './data/cleanDataset.js';
export { PROBLEM_KINDS, problemKind, countProblems, formatProblemCounts, describeSkipped, type ProblemKind, type ProblemCounts } from './data/problemKinds.js';
export { inspectImageFile, inspectImageBytes, type ImageInspection } from './input/inspectImage.js';
export { decodeImage, decodeRgbImage } from './input/decodeImage.js';
export type { Pixels } from './pixels/pixels.js';
export { DEFAULT_IMAGE_LIMITS, type ImageLimits } from './input/imageLimits.js';
export { parseInputShape, defaultPreprocessSpec, type PreprocessSpec, type InputShape } from './input/preprocessSpec.js';
export { getArchitecture, listArchitectures, type Architecture } from './model/architectures.js';
export { summarizeModel, formatModelSummary, type ModelSummary } from './model/summarizeModel.js';
export { saveBundle, readBundle, type ModelBundle } from './model/modelBundle.js';
export { defaultModelDir, DEFAULT_MODEL } from './model/defaultModel.js';
export type { BundleMetadata, EnsembleMember, ForcedChoiceRecord, StartedFrom, TemperatureCalibration } from './model/bundleMetadata.js';
export { ensembleBundles, type EnsembleOptions, type EnsembleData, type EnsembleResult } from './ensemble/ensembleBundles.js';
export { memberBundles } from './ensemble/memberBundles.js';
export { train, type TrainResult } from './train/train.js';
export { DEFAULT_TRAIN_OPTIONS, FROM_TRAIN_DEFAULTS, type TrainOptions, type TrainInput, type TrainEvent, type TrainWarning, type TrainCallbackResult } from './train/trainOptions.js';
export type { TrainingHistory, EpochRecord } from './model/trainingHistory.js';
export { evaluate, type EvaluateOptions, type EvaluateResult, type EvaluatedImage } from './evaluate/evaluate.js';
export { computeMetrics, formatEvaluationReport, type EvaluationReport } from './evaluate/computeMetrics.js';
export { bestThreshold } from './evaluate/bestThreshold.js';
export { expectedCalibrationError, ECE_BINS, type ReliabilityBin } from './evaluate/expectedCalibrationError.js';
export { fitTemperature, type TemperatureFit } from './evaluate/fitTemperature.js';
export { fitCalibration, uncalibratedRule, type CalibrationFit } from './evaluate/fitCalibration.js';
export { calibrateBundle, type CalibrateOptions, type CalibrateResult } from './evaluate/calibrateBundle.js';
export { applyCalibration, temperatureScale, calibratedThreshold } from './predict/applyCalibration.js';
export { learnedNothing, learnedNothingWarning, type LearnedNothing, type LearnedNothingCode } from './evaluate/learnedNothing.js';
export { scoreOutputs, scoreDecisions, type DecisionRule } from './evaluate/scoreOutputs.js';
export { loadModel, createClassifier, Classifier, type Prediction, type FacePrediction, type PredictOptions, type LoadModelOptions } from './predict/classifier.js';
export { rocCurve, precisionRecallCurve, operatingPoint, type RocCurve, type PrCurve, type OperatingPoint } from './evaluate/curves.js';
export { confidentMistakes } from './evaluate/confidentMistakes.js';
export { renderTrainingCurves, renderTrainingCurvesSvg, writeTrainingCurves, trainingCurvesSpec } from './report/trainingCurves.js';
export { renderChartSvg, renderChartPng, type ChartSpec } from './report/renderChart.js';
export { writeEvaluationReport, buildEvaluationReportData, DEFAULT_EVALUATION_REPORT_OPTIONS, type EvaluationReportData, type EvaluationReportOptions, type ReportedModel } from './report/evaluationReport.js';
export { claimReportOutput } from './report/reportOutput.js';
export { writeCleanReport, buildCleanReportData, DEFAULT_CLEAN_REPORT_OPTIONS, type CleanReportInput, type CleanReportData, type CleanReportOptions } from './report/cleanReport.js';
export { FacePipeline, type FacePipelineOptions, type FaceDecoded, type FaceCrop, type PhotoRequest } from './faces/facePipeline.js';
export { DEFAULT_FACE_CROP } from './faces/faceCropper.js';
