// Drives the console in headless Chromium (Debian's, through puppeteer-core) by a list of steps,
// and reports what the page showed: the values the steps read, every response the page got
// from its server, requests to any other origin (there should be none), and page errors.
// Input: {"url": "<server>", "screenshots": "<dir>", "steps": [...]}; each step is one of
//   {"viewport": {"width", "height"}}      {"goto": "/console/..."}
//   {"fill": "<selector>", "value": "..."} {"click": "<selector>"}   {"wait": "<selector>"}
//   {"gone": "<selector>"} (waits until nothing matches)
//   {"press": ["Tab", "Enter"]}            {"type": "text"} (into the focused element)
//   {"text": "<selector>", "as": "name"}   {"texts": "<selector>", "as": "name"} (all matches)
//   {"absent": "<selector>", "as": "name"} (true when nothing matches after a short wait)
//   {"eval": "<expression>", "as": "name"} (in the page: tampered requests, layout checks)
//   {"screenshot": "name"}                 {"sleep": ms}
// Selectors are puppeteer's: CSS, plus `::-p-text(...)` and `::-p-aria(...)`.
import puppeteer from 'puppeteer-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const input = JSON.parse(await new Promise((resolve) => {
    let data = '';
    process.stdin.on('data', (chunk) => (data += chunk));
    process.stdin.on('end', () => resolve(data));
}));
const origin = new URL(input.url).origin;
mkdirSync(input.screenshots, { recursive: true });

const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
});
const out = { values: {}, responses: [], foreign: [], errors: [] };
try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    page.setDefaultTimeout(15000);
    page.on('request', (r) => {
        const url = new URL(r.url());
        if (url.origin !== origin && url.protocol !== 'data:') out.foreign.push(r.url());
    });
    page.on('response', (r) => {
        const url = new URL(r.url());
        if (url.origin !== origin) return;
        if (!url.pathname.startsWith('/console')) {
            out.responses.push({ method: r.request().method(), path: url.pathname + url.search, status: r.status() });
        } else if (r.status() >= 400) {
            out.errors.push(`${r.status()} ${url.pathname}`);
        }
    });
    page.on('pageerror', (e) => out.errors.push(String(e)));
    // The API's refusals are in `responses`; the browser's own line about each is not an error.
    page.on('console', (m) => {
        if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) out.errors.push(m.text());
    });
    for (const step of input.steps) {
        try {
            await run(page, step);
        } catch (e) {
            await page.screenshot({ path: join(input.screenshots, 'failed.png') }).catch(() => {});
            const text = await page.evaluate(() => document.body.innerText).catch(() => '');
            throw new Error(`step ${JSON.stringify(step)}: ${e.message}\npage: ${text}\npage errors: ${out.errors.join('\n')}`);
        }
    }
} finally {
    await browser.close();
}
console.log(JSON.stringify(out));

async function run(page, step) {
    if (step.viewport) await page.setViewport(step.viewport);
    else if (step.goto) await page.goto(new URL(step.goto, origin).href, { waitUntil: 'networkidle0' });
    else if (step.fill) {
        const field = await page.waitForSelector(step.fill, { visible: true });
        await field.click();
        await field.evaluate((e) => e.select());
        await field.press('Backspace');
        await field.type(step.value);
    } else if (step.click) await click(page, step.click);
    else if (step.wait) await page.waitForSelector(step.wait, { visible: true });
    else if (step.gone) await page.waitForSelector(step.gone, { hidden: true });
    else if (step.press) for (const key of step.press) await page.keyboard.press(key);
    else if (step.type) await page.keyboard.type(step.type);
    else if (step.text) {
        const element = await page.waitForSelector(step.text, { visible: true });
        out.values[step.as] = await element.evaluate((e) => e.innerText);
    } else if (step.texts) {
        await page.waitForSelector(step.texts, { visible: true });
        out.values[step.as] = await page.$$eval(step.texts, (all) => all.map((e) => e.innerText));
    } else if (step.absent) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        out.values[step.as] = (await page.$(step.absent)) === null;
    } else if (step.eval) out.values[step.as] = await page.evaluate(`(async () => (${step.eval}))()`);
    else if (step.screenshot) await page.screenshot({ path: join(input.screenshots, `${step.screenshot}.png`) });
    else if (step.sleep) await new Promise((resolve) => setTimeout(resolve, step.sleep));
    else throw new Error('unknown step');
}

// A dialog or list that re-renders while opening may replace the element between finding and
// clicking it: find it again. A click lands on whatever is at the point measured, so first wait
// until the element has stopped moving and nothing covers it (a menu closing keeps its invisible
// backdrop over the page until its transition ends, longer on a busy machine: a click then lands
// on the backdrop, and nothing happens).
async function click(page, selector) {
    for (let attempt = 1; ; attempt++) {
        try {
            const element = await page.waitForSelector(selector, { visible: true });
            await element.evaluate((e) => e.scrollIntoView({ block: 'center' }));
            await page.waitForFunction(reachable, { timeout: 10000 }, element);
            return await element.click();
        } catch (e) {
            if (attempt === 5 || !/detached|not clickable/.test(e.message)) throw e;
            await new Promise((resolve) => setTimeout(resolve, 200));
        }
    }
}

// In the page: the element is where it was one poll ago, and it is what a click at its centre hits.
function reachable(element) {
    const box = element.getBoundingClientRect();
    const at = JSON.stringify([box.x, box.y, box.width, box.height]);
    const seen = (window.lastBoxes ??= new WeakMap());
    const still = seen.get(element) === at;
    seen.set(element, at);
    const hit = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
    return still && hit !== null && (hit === element || element.contains(hit));
}
