// Page texts in English and Korean (the study notes' own terms), one data file per language:
// static/i18n/<lang>.json. Keys are used by data-i18n (the element's text) and data-tip (its
// hover explanation: what the control teaches). app.js waits for i18nReady before it draws.
"use strict";
const LANGUAGES = ["en", "ko"];
const I18N = {};
const i18nReady = Promise.all(LANGUAGES.map(async (lang) => {
  const r = await fetch(`/static/i18n/${lang}.json`);
  if (!r.ok) throw new Error(`page texts for ${lang}: HTTP ${r.status}`);
  I18N[lang] = await r.json();
}));
