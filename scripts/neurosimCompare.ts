/**
 * NeuroSim's figures next to imcnas's for an exported design after run.sh ran it:
 *   npx tsx scripts/neurosimCompare.ts <export dir> [image]
 * Prints a Markdown table and writes comparison-image<i>.json in the export directory.
 */
import { compareNeuroSimRun, comparisonTable } from '../interop/neurosim';

async function main(): Promise<void> {
  const [dir, image = '0'] = process.argv.slice(2);
  if (!dir) throw new Error('usage: npx tsx scripts/neurosimCompare.ts <export dir> [image]');
  const comparison = await compareNeuroSimRun(dir, Number(image));
  console.log(comparisonTable(comparison));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(2);
});
