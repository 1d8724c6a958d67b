// Drives the chat page in Debian's Chromium (headless, through playwright-core from web/) and
// prints one JSON report of what a person would see. Job (argv[2], JSON):
//   {url, steps: [{ask: "question", wait?} | {pick: "format"} | {stop: true, afterText?} |
//    {click: "button name"}], screenshot?, userDataDir, executablePath?, timeoutMs?}
// Each step waits until the answer it starts has finished, failed or stopped (`wait: false`:
// only until it has started); `click` clicks the last button of that name once it is enabled
// (an approval card's Approve, the reasoning toggle), then waits for the last answer to settle.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');
const { chromium } = createRequire(join(web, 'package.json'))('playwright-core');

const job = JSON.parse(process.argv[2]);
const timeout = job.timeoutMs ?? 30000;
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ENTRIES = '[data-testid=answer], [data-testid=frames]';

// What a person sees of each answer (or raw frames) on the page now.
const readEntries = (page) =>
  page.evaluate(() =>
    [...document.querySelectorAll('[data-testid=answer], [data-testid=frames]')].map((entry) => {
      const text = (selector) => [...entry.querySelectorAll(selector)].map((node) => node.innerText.trim());
      return {
        kind: entry.getAttribute('data-testid'),
        format: entry.getAttribute('data-format'),
        state: entry.getAttribute('data-state'),
        heartbeats: Number(entry.getAttribute('data-heartbeats') ?? 0),
        frames: Number(entry.getAttribute('data-frames') ?? 0),
        answer: text('.pf-chatbot__message-and-actions > .pf-chatbot__message-text').join('\n'),
        toolCalls: [...entry.querySelectorAll('[data-testid=tool-call]')].map((call) => ({
          tool: call.getAttribute('data-tool'),
          phase: call.getAttribute('data-phase'),
          title: call.querySelector('.pf-chatbot__tool-call-title-text')?.innerText.trim() ?? '',
          response: call.querySelector('.pf-chatbot__tool-response')?.innerText.trim() ?? null,
        })),
        approvals: [...entry.querySelectorAll('[data-testid=approval]')].map((card) => ({
          tool: card.getAttribute('data-tool'),
          decision: card.getAttribute('data-decision'),
          title: card.querySelector('.pf-chatbot__tool-call-title-text')?.innerText.trim() ?? '',
          description: card.querySelector('.approval-description')?.innerText.trim() ?? null,
          arguments: card.querySelector('pre')?.textContent ?? null,
          status: card.querySelector('.approval-status')?.innerText.trim() ?? null,
          buttons: [...card.querySelectorAll('.pf-chatbot__tool-call-action-list button')].map((button) => ({
            name: button.innerText.trim(),
            disabled: button.disabled || button.getAttribute('aria-disabled') === 'true',
          })),
        })),
        reasoning: [...entry.querySelectorAll('[data-testid=reasoning]')].map((section) => ({
          toggle: section.querySelector('.pf-v6-c-expandable-section__toggle')?.innerText.trim() ?? '',
          expanded: section.querySelector('.pf-v6-c-expandable-section__toggle button')?.getAttribute('aria-expanded') ?? null,
          text: section.querySelector('.pf-chatbot__deep-thinking-body')?.innerText.trim() ?? '',
        })),
        violations: text('[data-testid=violation]'),
        errors: text('[data-testid=stream-error]'),
        failures: text('[data-testid=failure]'),
        sourcesHeading: entry.querySelector('.pf-chatbot__source > span')?.innerText.trim() ?? null,
        rawFrames: entry.querySelector('.frames')?.textContent ?? null,
      };
    }),
  );

const limit = setTimeout(() => {
  process.stdout.write(JSON.stringify({ timeout: true }));
  process.exit(3);
}, timeout + 15000);
limit.unref();

const context = await chromium.launchPersistentContext(job.userDataDir, {
  executablePath: job.executablePath ?? '/usr/bin/chromium',
  headless: true,
  args: ARGS,
  viewport: { width: 1100, height: 1500 },
});
const report = { consoleErrors: [], streamingPosts: [], approvalPosts: [], steps: [] };
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(timeout);
  page.on('console', (message) => {
    if (message.type() === 'error') report.consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => report.consoleErrors.push(String(error)));
  page.on('request', (request) => {
    if (request.method() === 'POST' && request.url().includes('/v1/streaming_query')) {
      report.streamingPosts.push(request.url());
    }
    if (request.method() === 'POST' && request.url().includes('/v1/tool-approvals')) {
      report.approvalPosts.push({ url: request.url(), body: request.postDataJSON() });
    }
  });
  await page.goto(job.url);
  await page.waitForSelector('.pf-chatbot__footer textarea');
  await page.waitForFunction(() => document.querySelectorAll('.pf-chatbot').length > 0);

  for (const step of job.steps) {
    const before = await page.locator(ENTRIES).count();
    const started = Date.now();
    if (step.stop) {
      // Stop the answer under way once `afterText` shows (or at once), then wait for it to settle.
      if (step.afterText) await page.getByText(step.afterText).first().waitFor();
      await page.locator('.pf-chatbot__button--stop').click();
      await page.waitForFunction(
        (selector) => {
          const all = document.querySelectorAll(selector);
          return all.length > 0 && all[all.length - 1].getAttribute('data-state') !== 'streaming';
        },
        ENTRIES,
      );
      report.steps.push({ step, seconds: (Date.now() - started) / 1000 });
      continue;
    }
    if (step.click !== undefined) {
      // What the page showed just before the click (the card with its buttons enabled).
      const button = page.getByRole('button', { name: step.click, exact: true }).last();
      await page.waitForFunction((element) => element && !element.disabled, await button.elementHandle());
      const shown = await readEntries(page);
      await button.click();
      await page.waitForFunction(
        (selector) => {
          const all = document.querySelectorAll(selector);
          return all.length > 0 && all[all.length - 1].getAttribute('data-state') !== 'streaming';
        },
        ENTRIES,
      );
      report.steps.push({ step, seconds: (Date.now() - started) / 1000, before: shown });
      continue;
    }
    if (step.ask !== undefined) {
      const box = page.locator('.pf-chatbot__footer textarea');
      await box.fill(step.ask);
      await box.press('Enter');
    } else if (step.pick !== undefined) {
      await page.getByRole('button', { name: 'Stream format' }).click();
      const label = step.pick === '' ? 'Chat (patternfly, rendered)' : `${step.pick} frames`;
      await page.getByRole('menuitem', { name: label }).click();
    }
    if (step.wait === false) {
      await page.waitForFunction(([selector, count]) => document.querySelectorAll(selector).length > count, [
        ENTRIES,
        before,
      ]);
      continue;
    }
    await page.waitForFunction(
      ([selector, count]) => {
        const all = document.querySelectorAll(selector);
        return all.length > count && all[all.length - 1].getAttribute('data-state') !== 'streaming';
      },
      [ENTRIES, before],
    );
    report.steps.push({ step, seconds: (Date.now() - started) / 1000 });
  }

  report.entries = await readEntries(page);
  report.visibleText = await page.evaluate(() => document.body.innerText);
  if (job.screenshot) {
    await page.screenshot({ path: job.screenshot, fullPage: true });
  }
  // The sources card shows one source a page: read each page (after the screenshot).
  const answers = page.locator('[data-testid=answer]');
  for (let index = 0; index < report.entries.length; index++) {
    report.entries[index].sources = [];
  }
  const answerCount = await answers.count();
  for (let index = 0, entryIndex = 0; entryIndex < report.entries.length; entryIndex++) {
    if (report.entries[entryIndex].kind !== 'answer') continue;
    const card = answers.nth(index++).locator('.pf-chatbot__sources-card');
    if ((await card.count()) === 0) continue;
    for (;;) {
      const link = card.locator('.pf-chatbot__sources-card-title a').first();
      report.entries[entryIndex].sources.push({
        title: (await link.innerText()).trim(),
        url: await link.getAttribute('href'),
      });
      const next = card.locator('button[data-action=next]');
      if ((await next.count()) === 0 || (await next.isDisabled())) break;
      await next.click();
    }
    if (index >= answerCount) break;
  }
} catch (error) {
  report.error = String(error?.stack ?? error);
} finally {
  await context.close();
}
process.stdout.write(JSON.stringify(report));
