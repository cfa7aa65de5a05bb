/**
 * `npm run cards:render`: draws every card Sesame sends in Teams with Microsoft's own Adaptive
 * Cards renderer (`adaptivecards`) in headless Chromium, with the Teams light host config, and
 * writes docs/cards/<name>.png for the README. Needs Debian's chromium (or CHROMIUM_PATH).
 */
import { mkdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { cardGallery } from "../test/chat/teams/card-gallery.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
const OUT = "docs/cards";
const file = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><style>
  body { margin: 0; padding: 16px; background: #f5f5f5; font-family: "Segoe UI", system-ui, sans-serif; }
  #card { width: 440px; background: #fff; border-radius: 6px; box-shadow: 0 1px 3px rgba(0,0,0,.15); padding: 0; }
  .ac-pushButton { border: 1px solid #c8c8c8; border-radius: 4px; background: #fff; padding: 6px 12px; font-weight: 600; font-family: inherit; }
  .ac-pushButton.style-positive { background: #5b5fc7; color: #fff; border-color: #5b5fc7; }
  .ac-pushButton.style-destructive { color: #c4314b; }
  .ac-input { font-family: inherit; }
</style></head><body><div id="card"></div></body></html>`;

/** The little of the browser this script touches (the project compiles without the DOM library). */
interface PageGlobals {
  AdaptiveCards: {
    AdaptiveCard: {
      new (): { hostConfig: unknown; parse(json: unknown): void; render(): unknown };
      onProcessMarkdown: (text: string, result: { outputHtml?: string; didProcess: boolean }) => void;
    };
    HostConfig: new (json: unknown) => unknown;
  };
  document: {
    getElementById(id: string): { replaceChildren(...nodes: unknown[]): void };
    createTextNode(text: string): unknown;
  };
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const hostConfig = JSON.parse(
    readFileSync(file("../schemas/vendor/adaptivecards-hostconfig-microsoft-teams-light.json"), "utf8"),
  ) as unknown;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  try {
    const page = await browser.newPage({ viewport: { width: 480, height: 800 }, deviceScaleFactor: 2 });
    await page.setContent(PAGE);
    await page.addScriptTag({ path: file("../node_modules/adaptivecards/dist/adaptivecards.js") });
    for (const { name, json } of cardGallery()) {
      await page.evaluate(
        ({ card, config }) => {
          const { AdaptiveCards: AC, document } = globalThis as unknown as PageGlobals;
          // Sesame's card text is plain text with markdown escapes: show it as such.
          AC.AdaptiveCard.onProcessMarkdown = (text, result) => {
            // HTML-escape first; an escaped < is then "\&lt;", so "&" is in the unescape set.
            result.outputHtml = text
              .replace(/&/g, "&amp;")
              .replace(/</g, "&lt;")
              .replace(/>/g, "&gt;")
              .replace(/\\([\\`*_[\]&~])/g, "$1")
              .replace(/\n/g, "<br>");
            result.didProcess = true;
          };
          const adaptive = new AC.AdaptiveCard();
          adaptive.hostConfig = new AC.HostConfig(config);
          adaptive.parse(card);
          document
            .getElementById("card")
            .replaceChildren(adaptive.render() ?? document.createTextNode("(renderer returned nothing)"));
        },
        { card: json, config: hostConfig },
      );
      await page.locator("#card").screenshot({ path: `${OUT}/${name}.png` });
      console.log(`${OUT}/${name}.png`);
    }
  } finally {
    await browser.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
