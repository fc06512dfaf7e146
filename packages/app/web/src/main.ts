/** The practice page: pick or drop a take, watch it being analysed, read the answer. */
import { analyseTake } from './api.js';
import { renderFigures } from './figures.js';
import { errorSentence } from './messages.js';
import { Timeline, type TimelineView } from './timeline.js';
import { TIMING_BUCKETS, timingOutliers } from './timing.js';
import type { Analysis, Hints, ProgressMessage } from './types.js';

const STAGE_WORDS: Record<string, string> = {
  decode: 'Reading the audio',
  resample: 'Preparing the signal',
  loudness: 'Measuring loudness',
  onsets: 'Finding note starts',
  rhythm: 'Finding the beat',
  key: 'Hearing the key',
  tuning: 'Checking the tuning',
  notes: 'Naming the notes',
  meter: 'Counting the bars',
  chords: 'Naming the chords',
};

function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el;
}

const form = $('take-form') as HTMLFormElement;
const fileInput = $('file') as HTMLInputElement;
const dropZone = $('drop-zone');
const chosen = $('chosen-file');
const submit = $('analyse') as HTMLButtonElement;
const progressSection = $('progress-section');
const uploadBar = $('upload-progress') as HTMLProgressElement;
const uploadText = $('upload-text');
const analysisBar = $('analysis-progress') as HTMLProgressElement;
const analysisText = $('analysis-text');
const stageList = $('stage-list');
const status = $('status');
const errorBox = $('error');
const errorText = $('error-text');
const retryButton = $('retry') as HTMLButtonElement;
const results = $('results');

let droppedFile: File | null = null;
let timeline: Timeline | null = null;
let retryTimer: number | undefined;

function currentFile(): File | null {
  return droppedFile ?? fileInput.files?.[0] ?? null;
}

function showChosen(): void {
  const file = currentFile();
  chosen.textContent = file ? `${file.name} (${(file.size / 1024 / 1024).toFixed(1)} MB)` : 'No file chosen yet.';
}

function readHints(): Hints {
  const tempo = Number(($('tempo-hint') as HTMLInputElement).value);
  return { tempoBpm: tempo > 0 ? tempo : null, key: ($('key-hint') as HTMLSelectElement).value };
}

function announce(text: string): void {
  status.textContent = text;
}

function renderStages(stages: string[]): void {
  stageList.replaceChildren(
    ...stages.map((stage) => {
      const li = document.createElement('li');
      li.dataset.stage = stage;
      li.dataset.state = 'waiting';
      li.textContent = STAGE_WORDS[stage] ?? stage;
      return li;
    }),
  );
}

function onProgress(m: ProgressMessage): void {
  const item = stageList.querySelector<HTMLElement>(`[data-stage="${CSS.escape(m.stage)}"]`);
  if (item) {
    item.dataset.state = m.phase === 'end' ? 'done' : 'running';
    item.setAttribute('aria-label', `${item.textContent ?? m.stage}: ${m.phase === 'end' ? 'done' : 'running'}`);
  }
  analysisBar.value = m.percent;
  analysisText.textContent = `${m.completed} of ${m.total} stages (${m.percent} %)`;
  if (m.phase === 'start') announce(`${STAGE_WORDS[m.stage] ?? m.stage}…`);
}

function showError(text: string, retryAfterSeconds: number | null): void {
  errorText.textContent = text;
  errorBox.hidden = false;
  window.clearInterval(retryTimer);
  retryButton.hidden = false;
  if (retryAfterSeconds === null) {
    retryButton.disabled = false;
    retryButton.textContent = 'Try again';
    return;
  }
  let left = Math.ceil(retryAfterSeconds);
  const tick = () => {
    retryButton.disabled = left > 0;
    retryButton.textContent = left > 0 ? `Try again in ${left} s` : 'Try again';
    left--;
    if (left < 0) window.clearInterval(retryTimer);
  };
  tick();
  retryTimer = window.setInterval(tick, 1000);
}

function clock(seconds: number): string {
  const m = Math.floor(seconds / 60);
  return `${m}:${(seconds - m * 60).toFixed(2).padStart(5, '0')}`;
}

/** In words, the note starts furthest from the beat: what the onset chart shows, for everyone. */
function renderOutliers(a: Analysis): void {
  const list = $('timing-outliers');
  const outliers = timingOutliers(a.onsets.times, a.tempo.beats);
  const intro = $('timing-outliers-intro');
  if (a.tempo.beats.length < 2) intro.textContent = 'No beat grid to judge the timing against.';
  else if (outliers.length === 0) intro.textContent = 'Every note start was within 30 ms of the beat grid.';
  else intro.textContent = `The note starts furthest from the beat grid (${outliers.length}):`;
  list.replaceChildren(
    ...outliers.map((o) => {
      const li = document.createElement('li');
      li.textContent = `at ${clock(o.time)}: ${Math.abs(o.ms).toFixed(0)} ms ${o.ms < 0 ? 'early' : 'late'}`;
      return li;
    }),
  );
}

function describeView(view: TimelineView): void {
  const fmt = (s: number) => (s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, '0')}`);
  $('view-range').textContent = `Showing ${fmt(view.min)} to ${fmt(view.max)}`;
}

function showResult(a: Analysis, hints: Hints): void {
  $('result-file').textContent = a.file.name;
  renderFigures($('figures'), a, hints);
  results.hidden = false;
  timeline?.destroy();
  timeline = new Timeline($('timeline'), { loudness: $('plot-loudness'), onsets: $('plot-onsets'), chords: $('plot-chords'), notes: $('plot-notes') }, a);
  timeline.onViewChange = describeView;
  describeView(timeline.view);
  renderOutliers(a);
  $('timeline-summary').textContent =
    `${a.loudness.rms_db.length} loudness readings, ${a.tempo.beats.length} beats, ${a.onsets.times.length} note starts, ` +
    `${a.chords.length} chords and ${a.notes.length} notes over ${a.audio.duration_seconds.toFixed(1)} seconds.`;
  // For automated checks and the curious: the charts and the answer they draw.
  (window as unknown as { practicePage: unknown }).practicePage = { analysis: a, plots: timeline.plots };
  document.body.dataset.state = 'done';
}

async function run(): Promise<void> {
  const file = currentFile();
  errorBox.hidden = true;
  window.clearInterval(retryTimer);
  if (!file) {
    showError(errorSentence({ error: 'missing_file', message: '' }, '', null).text, null);
    retryButton.hidden = true;
    fileInput.focus();
    return;
  }
  const hints = readHints();
  submit.disabled = true;
  document.body.dataset.state = 'working';
  progressSection.hidden = false;
  results.hidden = true;
  uploadBar.value = 0;
  analysisBar.value = 0;
  uploadText.textContent = '0 %';
  analysisText.textContent = 'waiting for the upload';
  renderStages(Object.keys(STAGE_WORDS));
  announce(`Uploading ${file.name}…`);
  const outcome = await analyseTake(file, hints, {
    onUpload: (sent, total) => {
      const percent = total > 0 ? Math.round((100 * sent) / total) : 100;
      uploadBar.value = percent;
      uploadText.textContent = `${percent} % of ${(total / 1024 / 1024).toFixed(1)} MB`;
    },
    onAccepted: (stages) => {
      if (stages.length > 0) renderStages(stages);
      analysisText.textContent = `0 of ${stages.length || 8} stages (waiting for a free analyser)`;
      announce('Upload complete. Waiting for the analyser…');
    },
    onProgress,
  });
  submit.disabled = false;
  if (outcome.ok) {
    analysisBar.value = 100;
    announce(`Analysis finished in ${(outcome.analysis.processing.total_ms / 1000).toFixed(1)} seconds.`);
    showResult(outcome.analysis, hints);
    $('results-title').focus();
  } else {
    const sentence = errorSentence(outcome.error, file.name, outcome.retryAfterSeconds);
    announce('');
    progressSection.hidden = true;
    showError(sentence.text, sentence.retryAfterSeconds);
    document.body.dataset.state = 'error';
    errorBox.focus();
  }
}

function timingLegend(): void {
  $('timing-legend').replaceChildren(
    ...TIMING_BUCKETS.map((b) => {
      const li = document.createElement('li');
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = b.colour;
      li.append(swatch, document.createTextNode(b.label));
      return li;
    }),
  );
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  void run();
});
retryButton.addEventListener('click', () => void run());
fileInput.addEventListener('change', () => {
  droppedFile = null;
  showChosen();
});
for (const type of ['dragenter', 'dragover']) {
  dropZone.addEventListener(type, (e) => {
    e.preventDefault();
    dropZone.classList.add('dragging');
  });
}
for (const type of ['dragleave', 'drop']) dropZone.addEventListener(type, () => dropZone.classList.remove('dragging'));
dropZone.addEventListener('drop', (e) => {
  e.preventDefault();
  const file = e.dataTransfer?.files[0];
  if (file) {
    droppedFile = file;
    showChosen();
  }
});

const zoomActions: Record<string, () => void> = {
  'zoom-in': () => timeline?.zoom(0.5),
  'zoom-out': () => timeline?.zoom(2),
  earlier: () => timeline?.scroll(-0.5),
  later: () => timeline?.scroll(0.5),
  'show-all': () => timeline?.showAll(),
};
for (const [id, action] of Object.entries(zoomActions)) $(id).addEventListener('click', action);
$('timeline').addEventListener('keydown', (e) => {
  const keys: Record<string, () => void> = {
    ArrowLeft: () => timeline?.scroll(-0.25),
    ArrowRight: () => timeline?.scroll(0.25),
    '+': () => timeline?.zoom(0.5),
    '=': () => timeline?.zoom(0.5),
    '-': () => timeline?.zoom(2),
    '0': () => timeline?.showAll(),
    Home: () => timeline?.scroll(-Infinity),
    End: () => timeline?.scroll(Infinity),
  };
  const action = keys[e.key];
  if (action) {
    e.preventDefault();
    action();
  }
});

timingLegend();
showChosen();
document.body.dataset.state = 'ready';
