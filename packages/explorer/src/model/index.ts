// @pagewalk/explorer/model: the browser-safe model behind `pagewalk explore`.
export { ScenarioExplorer, parseScenarioText, scenarioErrorLine, TRACE_EVENT_CAP } from './explorer.js';
export type { ExplorerOptions, Snapshot, TraceRun } from './explorer.js';
export { classifyArena, classifyEntry, vmaInfo, PageKind, PageBit, PAGE_KIND_NAMES, PAGE_SIZE } from './classify.js';
export type { PageMap, VmaInfo } from './classify.js';
export { pageTableTree, decodeEntry, folioInfo, swapTypeName } from './tree.js';
export type { DecodedEntry, FolioInfo, LevelName, TreeInfo } from './tree.js';
export { EXPLORER_FEATURES } from './features.js';
export { KIND_COLORS, CATEGORY_COLOR, colorOfPage, hexColor } from './colors.js';
export type { LiveKernelStatus, PreparedRecording, RecordingData, ReportData } from './report-data.js';
export { defaultRecordingIndex, liveRecording, prepareRecording, prepareRecordings, profileDifferences, profileItems, recordingLabel } from './report-data.js';
export { EXAMPLE_SCENARIO } from './example.js';
export { adviceName, explainPage, stepText } from './why.js';
export type { PageEvent, WhyAnswer, WhyStep } from './why.js';
