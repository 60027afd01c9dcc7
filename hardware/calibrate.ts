/**
 * Prints the calibration table: the cost model configured as ISAAC-CE, a NeuroSim-like 22 nm RRAM / SRAM
 * chip and a HERMES-like 14 nm PCM chip, beside the published anchors (docs/sources.md §Calibration anchors).
 * Run: npx tsx hardware/calibrate.ts
 */
import { calibrationTable, formatCalibrationTable } from './calibration';

const rows = calibrationTable();
console.log(formatCalibrationTable(rows));
const outside = rows.filter((r) => !r.within);
console.log(
  outside.length === 0
    ? `\nall ${rows.length} checks within their bands`
    : `\n${outside.length} of ${rows.length} checks outside their bands: ${outside.map((r) => r.id).join(', ')}`,
);
