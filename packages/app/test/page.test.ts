/**
 * The practice page in a real browser (Debian's headless Chromium driven by puppeteer-core): a
 * generated take uploaded through the page, progress streamed, figures and charts checked against
 * the API's answer (pixels included), zoom by keyboard, a phone-width screen, axe-core, and the
 * error sentences for a text file and a busy service.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Browser, Page, Viewport } from 'puppeteer-core';
import { songWav } from '../src/index.js';
import { ANALYSIS_STAGES } from '../src/routes/progress-stream.js';
import { artifactPath, chromiumPath, launchChromium, NO_CHROMIUM } from './browser.js';
import { startTestService, tempDir, type TestService } from './helpers.js';

// Browser globals, for the callbacks that page.evaluate runs in Chromium.
declare const window: any;
declare const document: any;
declare const MutationObserver: any;
declare function getComputedStyle(el: unknown): { backgroundColor: string };

const chromium = chromiumPath();
const skip = chromium ? false : NO_CHROMIUM;
const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let service: TestService;
let browser: Browser;
let origin = '';
let takePath = '';
let longTakePath = '';
let textPath = '';

before(async () => {
  if (!chromium) return;
  // One worker and no queue: a second upload while one runs is refused as busy (the last test).
  service = await startTestService({ workers: 1, queueMax: 0, retryAfterSeconds: 3 });
  await service.app.listen({ port: 0, host: '127.0.0.1' });
  origin = `http://127.0.0.1:${(service.app.server.address() as AddressInfo).port}`;
  const dir = tempDir('page-test-');
  takePath = path.join(dir, 'evening take.wav');
  fs.writeFileSync(takePath, songWav({ seconds: 30, style: 'lick', bpm: 100, tonic: 'E', scale: 'minor' }).wav);
  longTakePath = path.join(dir, 'long take.wav');
  fs.writeFileSync(longTakePath, songWav({ seconds: 120, style: 'full' }).wav);
  textPath = path.join(dir, 'setlist.txt');
  fs.writeFileSync(textPath, 'Autumn Leaves\nBlue Bossa\nSo What\n');
  browser = await launchChromium(chromium);
});

after(async () => {
  await browser?.close();
  await service?.shutdown('test done');
});

interface Watched {
  page: Page;
  requests: string[];
  pageErrors: string[];
}

async function openPage(viewport: Viewport = { width: 1280, height: 900 }): Promise<Watched> {
  const page = await browser.newPage();
  const requests: string[] = [];
  const pageErrors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  await page.setViewport(viewport);
  await page.goto(`${origin}/`, { waitUntil: 'load' });
  await page.waitForSelector('body[data-state="ready"]');
  return { page, requests, pageErrors };
}

async function chooseAndAnalyse(page: Page, file: string): Promise<void> {
  const input = await page.$('#file');
  assert.ok(input);
  await (input as unknown as { uploadFile(...paths: string[]): Promise<void> }).uploadFile(file);
  await page.click('#analyse');
}

/** axe-core in the page; the serious and critical violations, described. */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = window.axe as { run(ctx: unknown): Promise<{ violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: unknown }> }> }> };
    const result = await axe.run(document);
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 3).map((n) => JSON.stringify(n.target)) }));
  });
  console.log(`axe-core: ${violations.length} violation(s) of any impact`);
  for (const v of violations) console.log(`axe ${v.impact}: ${v.id} (${v.help}) at ${v.targets.join(', ')}`);
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help} (${v.targets.join(', ')})`);
}

/** Records what the progress section showed while the analysis ran. */
async function watchProgress(page: Page): Promise<void> {
  await page.evaluate(() => {
    const seen: Array<{ upload: number; analysis: number; text: string; running: string[]; done: number; resultShown: boolean }> = [];
    (window as unknown as { progressSeen: typeof seen }).progressSeen = seen;
    const section = document.getElementById('progress-section') as any;
    new MutationObserver(() => {
      seen.push({
        upload: (document.getElementById('upload-progress') as any).value,
        analysis: (document.getElementById('analysis-progress') as any).value,
        text: document.getElementById('analysis-text')?.textContent ?? '',
        running: [...section.querySelectorAll('[data-state="running"]')].map((li) => li.dataset.stage ?? ''),
        done: section.querySelectorAll('[data-state="done"]').length,
        resultShown: !(document.getElementById('results') as any).hidden,
      });
    }).observe(section, { subtree: true, attributes: true, childList: true, characterData: true });
  });
}

test('a take uploaded through the page: live progress, then figures and four charts that draw the answer', { skip, timeout: 180_000 }, async () => {
  const { page, requests, pageErrors } = await openPage();
  await page.type('#tempo-hint', '100');
  await page.select('#key-hint', 'E minor');
  await watchProgress(page);
  await chooseAndAnalyse(page, takePath);
  await page.waitForSelector('body[data-state="done"]', { timeout: 120_000 });

  // Progress came in stages while the analysis ran, before the result was drawn.
  const seen = await page.evaluate(() => (window as unknown as { progressSeen: Array<{ upload: number; analysis: number; text: string; running: string[]; done: number; resultShown: boolean }> }).progressSeen);
  assert.ok(seen.some((s) => s.upload === 100), 'upload reached 100 %');
  const midway = seen.filter((s) => !s.resultShown && s.analysis > 0 && s.analysis < 100);
  assert.ok(midway.length > 0, `no intermediate analysis progress seen: ${JSON.stringify(seen.slice(-5))}`);
  assert.match(midway[0]?.text ?? '', new RegExp(`^\\d+ of ${ANALYSIS_STAGES.length} stages \\(\\d+ %\\)`));
  // Which stage is caught running depends on how long each takes; some stage must be.
  assert.ok(seen.some((s) => !s.resultShown && s.running.some((stage) => (ANALYSIS_STAGES as readonly string[]).includes(stage))), 'a stage was shown running');
  const last = seen.at(-1);
  assert.equal(last?.done, ANALYSIS_STAGES.length, 'every stage ends done');

  const { analysis, counts } = await page.evaluate(() => {
    const { analysis, plots } = (window as unknown as { practicePage: { analysis: any; plots: Record<string, any> } }).practicePage;
    const counts = Object.fromEntries(Object.entries(plots).map(([name, u]) => [name, { series: u.series.length, points: u.data.map((d: ArrayLike<unknown>) => d.length) }]));
    return { analysis, counts };
  });
  // The figures say what the API answered.
  const figure = (id: string) => page.$eval(`[data-figure="${id}"] .value`, (el) => el.textContent ?? '');
  const detail = (id: string) => page.$eval(`[data-figure="${id}"] .detail`, (el) => el.textContent ?? '');
  assert.ok(Math.abs(analysis.tempo.bpm - 100) < 2, `tempo ${analysis.tempo.bpm}`);
  assert.match(await figure('tempo'), new RegExp(`^${analysis.tempo.bpm.toFixed(1)}( ± [\\d.]+)? BPM$`));
  assert.match(await detail('tempo'), /confidence \d+ %.*your metronome: 100 BPM/);
  assert.equal(await figure('key'), analysis.key.name);
  assert.equal(analysis.key.name, 'E minor');
  assert.match(await detail('key'), /you expected E minor/);
  assert.match(await figure('tuning'), /^[+−±][\d.]+ cents$/);
  assert.equal(Number((await figure('tuning')).replace('−', '-').replace(/[+±]/, '').replace(' cents', '')), Number(analysis.tuning.cents_from_a440.toFixed(1)));
  assert.equal(await figure('timing'), `${Math.round(analysis.onsets.timing.within_30ms_ratio * 100)} % within 30 ms`);
  assert.equal(await figure('processing'), `${(analysis.processing.total_ms / 1000).toFixed(1)} s`);
  assert.equal(await page.$eval('#result-file', (el) => el.textContent), 'evening take.wav');
  // The onset chart in words: a quantised take has nothing beyond 30 ms inside the beat grid.
  assert.equal(await page.$eval('#timing-outliers-intro', (el) => el.textContent), 'Every note start was within 30 ms of the beat grid.');

  // Each chart holds the answer's data…
  assert.ok(analysis.notes.length > 20 && analysis.chords.length > 3 && analysis.onsets.times.length > 20);
  assert.deepEqual(counts.loudness?.points, [analysis.loudness.rms_db.length, analysis.loudness.rms_db.length]);
  assert.equal(counts.onsets?.series, 6, 'x and five early/late buckets');
  assert.ok(counts.onsets?.points.every((n: number) => n === analysis.onsets.times.length));
  assert.equal(counts.chords?.points[0], analysis.chords.length);
  assert.equal(counts.notes?.points[0], analysis.notes.length);

  // …and has drawn it: the canvas pixel where a datum belongs has its colour.
  const drawn = await page.evaluate(() => {
    const { analysis: a, plots } = (window as unknown as { practicePage: { analysis: any; plots: Record<string, any> } }).practicePage;
    const rgb = (u: any, x: number, y: number): number[] => [...u.ctx.getImageData(Math.round(x), Math.round(y), 1, 1).data].slice(0, 3);
    const saturation = (c: number[]) => Math.max(...c) - Math.min(...c);
    /** The most saturated pixel within ±r pixels vertically (antialiased strokes). */
    const near = (u: any, x: number, y: number, r: number) => {
      let best = [255, 255, 255];
      for (let dy = -r; dy <= r; dy++) {
        const c = rgb(u, x, y + dy);
        if (saturation(c) > saturation(best)) best = c;
      }
      return best;
    };
    const saturatedPixels = (u: any) => {
      const { left, top, width, height } = u.bbox;
      const d = u.ctx.getImageData(left, top, width, height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 40) n++;
      return n;
    };
    const L = plots.loudness;
    const w = a.loudness.window_seconds;
    const li = a.loudness.rms_db.findIndex((v: number) => Number.isFinite(v));
    const loud = near(L, L.valToPos((li + 0.5) * w, 'x', true), L.valToPos(a.loudness.rms_db[li], 'y', true), 3);
    const O = plots.onsets;
    const bucket = O.data.findIndex((s: Array<number | null>, k: number) => k > 0 && s[0] !== null);
    const onset = rgb(O, O.valToPos(a.onsets.times[0], 'x', true), O.valToPos(O.data[bucket][0], 'y', true));
    const swatch = [...document.querySelectorAll('#timing-legend .swatch')].map((s) => getComputedStyle(s).backgroundColor)[bucket - 1];
    const C = plots.chords;
    const c0 = a.chords[0];
    const chord = rgb(C, C.valToPos(c0.start + (c0.end - c0.start) * 0.8, 'x', true), C.valToPos(0.5, 'y', true) + 6);
    const N = plots.notes;
    const n0 = a.notes[0];
    const note = rgb(N, N.valToPos(n0.onset + n0.duration / 2, 'x', true), N.valToPos(n0.midi, 'y', true));
    return { loud, onset, swatch, chord, note, saturated: Object.fromEntries(Object.entries(plots).map(([k, u]) => [k, saturatedPixels(u)])) };
  });
  const sat = (c: number[]) => Math.max(...c) - Math.min(...c);
  assert.ok(sat(drawn.loud) > 40 && (drawn.loud[2] ?? 0) > (drawn.loud[1] ?? 0), `loudness line at its first reading: ${drawn.loud}`);
  assert.equal(`rgb(${drawn.onset.join(', ')})`, drawn.swatch, 'the first onset is drawn in its early/late colour');
  assert.ok(sat(drawn.chord) > 40, `chord box: ${drawn.chord}`);
  assert.ok(sat(drawn.note) > 40 && (drawn.note[1] ?? 255) < (drawn.note[0] ?? 0), `piano-roll box of the first note: ${drawn.note}`);
  for (const [name, n] of Object.entries(drawn.saturated)) assert.ok(n > 200, `${name} chart drew ${n} coloured pixels`);

  // Nothing came from anywhere but the service.
  const foreign = requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('data:') && !u.startsWith('blob:'));
  assert.deepEqual(foreign, []);
  assert.ok(requests.includes(`${origin}/assets/vendor/uPlot.iife.min.js`));
  assert.ok(requests.includes(`${origin}/api/analyze?bpm=100&key=E+minor`), 'the hints went as the API\'s query parameters');

  const shot = artifactPath('practice-page.png');
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`screenshot: ${shot}`);
  assert.ok(fs.statSync(shot).size > 20_000);

  assert.deepEqual(await seriousViolations(page), [], 'no serious or critical accessibility violations');
  assert.deepEqual(pageErrors, []);

  // Keyboard: the toolbar zooms every chart; the focused timeline scrolls with the arrow keys.
  const xRanges = () =>
    page.evaluate((): Array<[number, number]> => Object.values(window.practicePage.plots as Record<string, any>).map((u) => [u.scales.x.min, u.scales.x.max]));
  const [wholeMin, wholeMax] = (await xRanges())[0] ?? [0, 0];
  await page.focus('#zoom-in');
  await page.keyboard.press('Enter');
  const zoomed = await xRanges();
  for (const [min, max] of zoomed) assert.ok(Math.abs(max - min - (wholeMax - wholeMin) / 2) < 0.01, `zoomed to half: ${min}–${max}`);
  let hops = 0;
  while ((await page.evaluate(() => document.activeElement?.id)) !== 'timeline' && hops++ < 10) await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'timeline', 'the timeline is reachable with Tab');
  await page.keyboard.press('ArrowRight');
  const scrolled = await xRanges();
  for (const [min] of scrolled) assert.ok(min > (zoomed[0]?.[0] ?? 0) + 1, `scrolled right: ${min}`);
  assert.match(await page.$eval('#view-range', (el) => el.textContent ?? ''), /^Showing \d/);

  await page.close();
});

test('on a phone-width screen the page fits, draws its charts and stays accessible', { skip, timeout: 120_000 }, async () => {
  const { page, pageErrors } = await openPage({ width: 375, height: 800, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await chooseAndAnalyse(page, takePath);
  await page.waitForSelector('body[data-state="done"]', { timeout: 120_000 });
  assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 375, 'no horizontal scrolling at 375 px');
  const widths = await page.evaluate(() => Object.values(window.practicePage.plots as Record<string, any>).map((u) => u.width as number));
  assert.equal(widths.length, 4);
  for (const w of widths) assert.ok(w >= 240 && w <= 375, `chart width ${w}`);
  // A narrow screen opens on the first seconds, where notes can be told apart; "Whole take" shows all 30 s.
  const xRange = () => page.evaluate((): number[] => [window.practicePage.plots.notes.scales.x.min, window.practicePage.plots.notes.scales.x.max]);
  const [openMin, openMax] = await xRange();
  assert.ok(openMin === 0 && (openMax ?? 0) >= 8 && (openMax ?? 30) < 20, `opening view ${openMin}–${openMax}`);
  await page.click('#show-all');
  assert.deepEqual(await xRange(), [0, 30]);
  const phoneShot = artifactPath('practice-page-phone.png');
  await page.screenshot({ path: phoneShot, fullPage: true });
  console.log(`screenshot: ${phoneShot}`);
  assert.deepEqual(await seriousViolations(page), [], 'no serious or critical accessibility violations at phone width');
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test('the form is reachable with the keyboard in reading order', { skip }, async () => {
  const { page } = await openPage();
  const order: string[] = [];
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press('Tab');
    order.push((await page.evaluate(() => document.activeElement?.id)) ?? '');
  }
  const wanted = ['file', 'tempo-hint', 'key-hint', 'analyse'];
  assert.deepEqual(order.slice(0, wanted.length), wanted, `tab order: ${order.join(', ')}`);
  await page.close();
});

test('a text file gets a sentence a musician understands, not a code or a stack', { skip, timeout: 60_000 }, async () => {
  const { page, pageErrors } = await openPage();
  await chooseAndAnalyse(page, textPath);
  await page.waitForSelector('body[data-state="error"]', { timeout: 30_000 });
  const text = await page.$eval('#error-text', (el) => el.textContent ?? '');
  assert.match(text, /^“setlist\.txt” isn't a recording the analyser can read\. Send a WAV, MP3, FLAC or OGG file/);
  assert.doesNotMatch(text, /unsupported_format|415|Error|at .*\.js/);
  assert.equal(await page.$eval('#error', (el) => el.getAttribute('role')), 'alert');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'error', 'focus moves to the message');
  assert.equal(await page.$eval('#results', (el) => (el as any).hidden), true);
  assert.deepEqual(await seriousViolations(page), []);
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test('a busy service: the page says to retry in N seconds, counts down, and the retry succeeds', { skip, timeout: 240_000 }, async () => {
  // Occupy the only worker with a long take, over the same streaming API the page uses.
  const form = new FormData();
  form.append('file', new Blob([fs.readFileSync(longTakePath)], { type: 'audio/wav' }), 'long take.wav');
  const res = await fetch(`${origin}/api/analyze`, { method: 'POST', body: form, headers: { accept: 'text/event-stream' } });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  let text = '';
  while (!text.includes('event: progress')) {
    const { value, done } = await reader.read();
    assert.ok(!done, 'the stream ended before any progress');
    text += new TextDecoder().decode(value);
  }
  const { page } = await openPage();
  await chooseAndAnalyse(page, takePath);
  await page.waitForSelector('body[data-state="error"]', { timeout: 30_000 });
  assert.equal(await page.$eval('#error-text', (el) => el.textContent), 'The analyser is busy with other takes right now. Try again in 3 seconds.');
  const button = await page.$eval('#retry', (el) => ({ text: el.textContent, disabled: (el as any).disabled, hidden: (el as any).hidden }));
  assert.deepEqual(button, { text: 'Try again in 3 s', disabled: true, hidden: false });
  // Let the long take finish, then retry from the page.
  while (!(await reader.read()).done);
  await page.waitForFunction(() => !(document.getElementById('retry') as any).disabled, { timeout: 10_000 });
  await page.click('#retry');
  await page.waitForSelector('body[data-state="done"]', { timeout: 120_000 });
  assert.equal(await page.$eval('#error', (el) => (el as any).hidden), true);
  await page.close();
});
