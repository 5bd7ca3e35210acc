// node knowledge-base/import/samples/make-pdf.mjs OUT.pdf (from the project root; needs fonts-noto-cjk)
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' });
const page = await browser.newPage();
await page.goto(pathToFileURL(path.join(here, 'sfz.html')).href);
await page.pdf({ path: process.argv[2], format: 'A4' });
await browser.close();
