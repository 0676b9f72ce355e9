import { writeFile } from 'node:fs/promises';
import { describeFileError } from '../fs-errors.js';

/** Writes an HTML report; returns the error message (naming the file and the fix) instead of throwing. */
export async function writeHtml(file: string, html: string): Promise<string | undefined> {
  try {
    await writeFile(file, html, 'utf8');
    return undefined;
  } catch (error) {
    const described = describeFileError(error, `--html ${file}`, file, 'write');
    return described instanceof Error ? described.message : String(described);
  }
}
