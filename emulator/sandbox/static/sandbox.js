// The sandbox chat: acts as a persona through the emulator's control API and shows what the bot sent.
// No framework and no build step: the page must work offline, served straight from the package.
"use strict";

const BASE = document.querySelector('meta[name="emulator-base"]').content;
const API = `${BASE}/control`;
const POLL_SECONDS = 25;
const TYPING_SHOWN_MS = 5000;
// Telegram's limit for one message, in UTF-16 code units (what JavaScript's String.length counts).
const MAX_TEXT_LENGTH = 4096;
const NOTE_FROM_LENGTH = MAX_TEXT_LENGTH - 200;
// Markdown-like marks, as Telegram Desktop turns them into formatting when a message is sent.
const MARKS = [["**", "bold"], ["__", "italic"], ["~~", "strikethrough"], ["||", "spoiler"], ["`", "code"]];
// The bot's deep links (https://t.me/<bot>?start=<payload>), opened inside the sandbox instead.
const START_LINK = /https:\/\/t\.me\/([A-Za-z0-9_]{3,64})\?start=([A-Za-z0-9_-]{1,64})/g;

const state = {
  bot: null, // token of the chosen bot; null while none has connected
  botUsername: null,
  users: [],
  roles: new Map(), // persona id -> {ru, en}
  user: null,
  epoch: null,
  version: 0,
  messages: new Map(), // message_id -> message view from the control API
  answered: new Set(), // callback answers already shown
  keyboard: null,
  blocked: false,
  commands: [],
  poll: 0, // generation: a persona or bot switch abandons the running long poll
  stickToBottom: true, // follow new messages unless the person scrolled up to read
};

const $ = (id) => document.getElementById(id);

async function api(method, path, body) {
  const url = new URL(API + path, window.location.href);
  if (state.bot) url.searchParams.set("bot", state.bot);
  const response = await fetch(url, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

function toast(text, alert = false) {
  const box = $("toast");
  box.textContent = text;
  box.classList.toggle("alert", alert);
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, alert ? 6000 : 2500);
}

async function act(action) {
  try {
    await action();
  } catch (error) {
    toast(`Ошибка · Error: ${error.message}`);
  }
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function formatPhone(phone) {
  const digits = (phone || "").replace(/\D/g, "");
  if (digits.length === 11) {
    return `+${digits[0]} ${digits.slice(1, 4)} ${digits.slice(4, 7)}-${digits.slice(7, 9)}-${digits.slice(9)}`;
  }
  return phone || "";
}

// --- bots -----------------------------------------------------------------------------------------

async function loadBots() {
  const bots = await api("GET", "/bots");
  const select = $("bot-select");
  $("bot-waiting").hidden = bots.length > 0;
  $("bot-field").hidden = bots.length < 2;
  if (!bots.length) {
    setTimeout(() => act(loadBots), 2000);
    return;
  }
  select.replaceChildren(...bots.map((bot) => el("option", { value: bot.token }, `${bot.first_name} (@${bot.username})`)));
  if (!bots.some((bot) => bot.token === state.bot)) state.bot = bots[0].token;
  select.value = state.bot;
  if (state.user) restartPolling();
}

// --- personas -------------------------------------------------------------------------------------

async function loadUsers() {
  const [personas, users] = await Promise.all([api("GET", "/personas"), api("GET", "/users")]);
  state.roles = new Map(personas.map((p) => [p.id, { ru: p.role_ru, en: p.role_en }]));
  state.users = users;
  renderPersonas();
}

function renderPersonas() {
  const items = state.users.map((user) => {
    const role = state.roles.get(user.id);
    const title = role ? `${role.ru} ${user.first_name}` : `${user.first_name} ${user.last_name || ""}`;
    const button = el(
      "button",
      { type: "button", class: "persona", "data-user-id": String(user.id), onclick: () => selectUser(user) },
      title,
      role ? el("span", { class: "en" }, ` ${role.en}`) : "",
      el("span", { class: "meta" }, `ID ${user.id} · ${formatPhone(user.phone) || "без телефона · no phone"}`),
    );
    button.classList.toggle("active", state.user?.id === user.id);
    return el("li", {}, button);
  });
  $("persona-list").replaceChildren(...items);
  // On a phone the personas are a row that scrolls sideways: keep the chosen one in sight.
  const list = $("persona-list");
  const active = list.querySelector(".persona.active");
  if (active) {
    const [row, chip] = [list.getBoundingClientRect(), active.getBoundingClientRect()];
    if (chip.left < row.left || chip.right > row.right) list.scrollLeft += chip.left - row.left;
  }
}

function selectUser(user) {
  state.user = user;
  localStorage.setItem("sandbox.user", String(user.id));
  renderPersonas();
  $("chat-title").textContent = `${user.first_name} ${user.last_name || ""}`.trim();
  $("text-input").disabled = false;
  $("send-button").disabled = false;
  $("text-input").focus();
  restartPolling();
}

async function createPersona(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const body = { first_name: form.get("first_name").trim() };
  for (const key of ["last_name", "phone"]) {
    const value = form.get(key).trim();
    if (value) body[key] = value;
  }
  if (form.get("id")) body.id = Number(form.get("id"));
  const user = await api("POST", "/users", body);
  event.target.reset();
  await loadUsers();
  selectUser(user);
}

// --- the chat -------------------------------------------------------------------------------------

function restartPolling() {
  state.poll += 1;
  state.epoch = null;
  state.version = 0;
  state.messages.clear();
  state.answered.clear();
  state.stickToBottom = true;
  $("messages").replaceChildren();
  if (state.bot) pollChat(state.poll);
}

async function pollChat(generation) {
  while (generation === state.poll) {
    try {
      const query = new URLSearchParams({ since: state.version, wait: POLL_SECONDS });
      if (state.epoch !== null) query.set("epoch", state.epoch);
      const view = await api("GET", `/chats/${state.user.id}?${query}`);
      if (generation !== state.poll) return;
      applyView(view);
    } catch (error) {
      $("chat-subtitle").textContent = `Нет связи с эмулятором · Emulator unreachable: ${error.message}`;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

function applyView(view) {
  // The first answer after a (re)start is the history: its callback answers were shown already,
  // when they happened (or to another persona); a toast is shown once, live only.
  const live = state.epoch !== null;
  if (state.epoch !== null && view.epoch !== state.epoch) {
    // The emulator was reset: everything shown so far is gone.
    state.messages.clear();
    state.answered.clear();
    $("messages").replaceChildren();
  }
  state.epoch = view.epoch;
  state.version = view.version;
  for (const message of view.messages) state.messages.set(message.message_id, message);
  state.keyboard = view.reply_keyboard;
  state.blocked = view.blocked;
  state.commands = view.commands;
  state.botUsername = view.bot.username;
  for (const answer of view.callback_answers) {
    if (state.answered.has(answer.callback_query_id)) continue;
    state.answered.add(answer.callback_query_id);
    if (live && answer.text) toast(answer.text, answer.show_alert);
  }
  $("chat-subtitle").textContent = `${view.bot.first_name} · @${view.bot.username}`;
  showTyping(view.action);
  renderMessages();
  renderReplyKeyboard();
  renderBlockToggle();
}

function showTyping(action) {
  const typing = $("typing");
  const left = action ? action.at * 1000 + TYPING_SHOWN_MS - Date.now() : 0;
  typing.hidden = left <= 0;
  clearTimeout(showTyping.timer);
  if (left > 0) showTyping.timer = setTimeout(() => { typing.hidden = true; }, left);
}

function scrollToEnd() {
  const box = $("messages");
  if (state.stickToBottom) box.scrollTop = box.scrollHeight;
}

function renderMessages() {
  const box = $("messages");
  const ordered = [...state.messages.values()].filter((m) => !m.deleted).sort((a, b) => a.message_id - b.message_id);
  const existing = new Map([...box.children].map((node) => [Number(node.dataset.messageId), node]));
  const nodes = ordered.map((message) => {
    const node = existing.get(message.message_id);
    // Re-render only what changed, so an edit replaces its bubble in place.
    return node && Number(node.dataset.version) === message.version ? node : renderMessage(message);
  });
  box.replaceChildren(...nodes);
  scrollToEnd();
}

function renderMessage(view) {
  const message = view.message;
  const bubble = el("div", {
    class: `msg ${view.outgoing ? "from-bot" : "from-me"}`,
    "data-message-id": String(view.message_id),
    "data-version": String(view.version),
  });
  if (message.photo) {
    const largest = message.photo[message.photo.length - 1];
    const src = `${API}/files/${encodeURIComponent(largest.file_id)}`;
    // The picture's height is known only once loaded; keep following the conversation then.
    bubble.append(el("img", { class: "photo", src, alt: "photo", onload: scrollToEnd }));
  }
  if (message.document) {
    const document_ = message.document;
    const link = el("a", { href: `${API}/files/${encodeURIComponent(document_.file_id)}`, target: "_blank" },
      `📄 ${document_.file_name || "document"}`);
    bubble.append(el("div", { class: "card" }, link));
  }
  if (message.sticker) bubble.append(el("div", { class: "sticker" }, message.sticker.emoji || "🖼"));
  if (message.contact) {
    const contact = message.contact;
    const name = `${contact.first_name} ${contact.last_name || ""}`.trim();
    bubble.append(el("div", { class: "card" }, `📇 ${name}`, el("br"), formatPhone(contact.phone_number)));
  }
  if (view.html) {
    const text = el("div", { class: "text" });
    text.innerHTML = view.html; // rendered and escaped by the emulator from the message entities
    linkifyStartLinks(text);
    sanitizeLinks(text);
    interceptStartLinks(text);
    for (const spoiler of text.querySelectorAll("tg-spoiler")) {
      spoiler.addEventListener("click", () => spoiler.classList.add("revealed"));
    }
    bubble.append(text);
  }
  const inline = view.markup && view.markup.inline_keyboard;
  if (view.outgoing && inline) bubble.append(renderInlineKeyboard(view.message_id, inline));
  const time = new Date(message.date * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const edited = view.edit_count ? "изменено · edited  " : "";
  bubble.append(el("div", { class: "footer" }, edited + time));
  return bubble;
}

function sanitizeLinks(root) {
  for (const link of root.querySelectorAll("a")) {
    if (!/^(https?:|tg:)/i.test(link.getAttribute("href") || "")) link.removeAttribute("href");
    link.target = "_blank";
    link.rel = "noopener noreferrer";
  }
}

function linkifyStartLinks(root) {
  // Telegram makes plain URLs clickable itself; the emulator sends no "url" entities for them.
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const found = [];
  while (walker.nextNode()) {
    if (!walker.currentNode.parentElement.closest("a, code, pre")) found.push(walker.currentNode);
  }
  for (const node of found) {
    const value = node.nodeValue;
    const parts = [];
    let last = 0;
    for (const match of value.matchAll(START_LINK)) {
      parts.push(value.slice(last, match.index), el("a", { href: match[0] }, match[0]));
      last = match.index + match[0].length;
    }
    if (parts.length) node.replaceWith(...parts, value.slice(last));
  }
}

function startPayload(url) {
  // The payload of a start link to the bot in this chat; null for any other link.
  const match = [...url.matchAll(START_LINK)][0];
  if (!match || match.index !== 0 || match[0] !== url) return null;
  return match[1].toLowerCase() === (state.botUsername || "").toLowerCase() ? match[2] : null;
}

function interceptStartLinks(root) {
  for (const link of root.querySelectorAll("a[href]")) {
    const payload = startPayload(link.getAttribute("href"));
    if (!payload) continue;
    link.classList.add("start-link");
    link.dataset.start = payload;
    link.removeAttribute("target");
    link.addEventListener("click", (event) => {
      event.preventDefault();
      offerPersonas(payload);
    });
  }
}

function offerPersonas(payload) {
  // An invite is for someone else, so the page asks who opens it (the current persona too).
  const dialog = $("link-dialog");
  const list = $("link-personas");
  list.replaceChildren(...state.users.map((user) => {
    const role = state.roles.get(user.id);
    const name = role ? `${role.ru} ${user.first_name}` : `${user.first_name} ${user.last_name || ""}`.trim();
    const open = () => {
      dialog.hidden = true;
      selectUser(user);
      act(() => sendText(`/start ${payload}`));
    };
    return el("button", { type: "button", "data-user-id": String(user.id), onclick: open },
      state.user?.id === user.id ? `${name} (сейчас · current)` : name);
  }));
  $("link-payload").textContent = `/start ${payload}`;
  dialog.hidden = false;
}

function renderInlineKeyboard(messageId, rows) {
  return el("div", { class: "inline-keyboard" }, ...rows.map((row) => el("div", { class: "row" }, ...row.map((button) => {
    const payload = button.url && startPayload(button.url);
    if (payload) return el("button", { type: "button", class: "start-link", onclick: () => offerPersonas(payload) }, button.text);
    if (button.url) {
      return el("button", { type: "button", onclick: () => window.open(button.url, "_blank", "noopener") }, `${button.text} ↗`);
    }
    if (button.callback_data === undefined) {
      return el("button", { type: "button", disabled: "", title: "Не эмулируется · Not emulated" }, button.text);
    }
    const press = () => act(() => api("POST", `/users/${state.user.id}/callbacks`, { message_id: messageId, data: button.callback_data }));
    return el("button", { type: "button", "data-callback": button.callback_data, onclick: press }, button.text);
  }))));
}

function renderReplyKeyboard() {
  const box = $("reply-keyboard");
  const rows = state.keyboard && !state.blocked ? state.keyboard.keyboard : null;
  box.hidden = !rows;
  if (!rows) {
    box.replaceChildren();
    return;
  }
  box.replaceChildren(...rows.map((row) => el("div", { class: "row" }, ...row.map((button) => {
    if (button.request_contact) {
      const title = `Отправить свой номер · Share your number ${formatPhone(state.user.phone)}`;
      return el("button", { type: "button", class: "share-contact", title, onclick: () => act(shareContact) }, button.text);
    }
    return el("button", { type: "button", onclick: () => act(() => sendText(button.text)) }, button.text);
  }))));
}

function renderBlockToggle() {
  const toggle = $("block-toggle");
  toggle.hidden = false;
  toggle.textContent = state.blocked
    ? "Разблокировать бота · Unblock"
    : "Заблокировать бота · Block";
}

async function shareContact() {
  if (!state.user.phone) {
    const phone = prompt("У персоны нет телефона. Введите номер · The persona has no phone. Enter a number:");
    if (!phone) return;
    state.user = await api("POST", "/users", { id: state.user.id, phone: phone.trim() });
  }
  await api("POST", `/users/${state.user.id}/contacts`, { own: true });
}

async function sendText(text, entities = []) {
  const body = entities.length ? { text, entities } : { text };
  await api("POST", `/users/${state.user.id}/messages`, body);
}

function parseFormatting(source) {
  // **bold**, __italic__, ~~strike~~, ||spoiler||, `code` -> plain text + entities (UTF-16 offsets).
  let text = "";
  const entities = [];
  const open = new Map();
  let i = 0;
  while (i < source.length) {
    const mark = MARKS.find(([m]) => source.startsWith(m, i));
    if (!mark) {
      text += source[i];
      i += 1;
      continue;
    }
    const [m, type] = mark;
    if (open.has(m)) {
      const offset = open.get(m);
      open.delete(m);
      entities.push({ type, offset, length: text.length - offset });
    } else if (source.indexOf(m, i + m.length) > i + m.length) {
      open.set(m, text.length);
    } else {
      text += m; // a lone mark is just text
    }
    i += m.length;
  }
  return { text, entities: entities.filter((e) => e.length > 0) };
}

function wrapSelection(input, mark) {
  const { selectionStart: start, selectionEnd: end, value } = input;
  input.value = value.slice(0, start) + mark + value.slice(start, end) + mark + value.slice(end);
  input.setSelectionRange(start + mark.length, end + mark.length);
  updateComposerNote();
}

function updateComposerNote() {
  const length = parseFormatting($("text-input").value).text.length;
  const note = $("composer-note");
  note.hidden = length <= NOTE_FROM_LENGTH;
  note.classList.toggle("too-long", length > MAX_TEXT_LENGTH);
  note.textContent = length > MAX_TEXT_LENGTH
    ? `Слишком длинное: ${length} из ${MAX_TEXT_LENGTH} символов, Telegram такое не отправит · Too long: ${length} of ${MAX_TEXT_LENGTH}`
    : `${length} из ${MAX_TEXT_LENGTH} · ${length} of ${MAX_TEXT_LENGTH}`;
  const input = $("text-input");
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
  return length <= MAX_TEXT_LENGTH;
}

function toggleCommandMenu() {
  const menu = $("command-menu");
  if (!menu.hidden || !state.user) {
    menu.hidden = true;
    return;
  }
  const commands = state.commands.length ? state.commands : [{ command: "start", description: "" }];
  menu.replaceChildren(...commands.map((c) => el("button", {
    type: "button",
    onclick: () => { menu.hidden = true; act(() => sendText(`/${c.command}`)); },
  }, el("b", {}, `/${c.command}`), c.description)));
  menu.hidden = false;
}

function readAsBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1]);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

function wire() {
  $("messages").addEventListener("scroll", () => {
    const box = $("messages");
    state.stickToBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  });
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("text-input");
    if (!input.value.trim() || !state.user) return;
    if (!updateComposerNote()) return; // refused as Telegram's apps do; the note says why
    const { text, entities } = parseFormatting(input.value);
    input.value = "";
    updateComposerNote();
    act(() => sendText(text, entities));
  });
  $("text-input").addEventListener("input", updateComposerNote);
  $("text-input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    } else if ((event.ctrlKey || event.metaKey) && ["b", "i"].includes(event.key.toLowerCase())) {
      event.preventDefault();
      wrapSelection(event.target, event.key.toLowerCase() === "b" ? "**" : "__");
    }
  });
  $("link-cancel").addEventListener("click", () => { $("link-dialog").hidden = true; });
  $("persona-form").addEventListener("submit", (event) => act(() => createPersona(event)));
  $("bot-select").addEventListener("change", (event) => {
    state.bot = event.target.value;
    restartPolling();
  });
  $("block-toggle").addEventListener("click", () => act(() => api("POST", `/users/${state.user.id}/${state.blocked ? "unblock" : "block"}`)));
  $("menu-button").addEventListener("click", toggleCommandMenu);
  $("sticker-button").addEventListener("click", () => state.user && act(() => api("POST", `/users/${state.user.id}/stickers`, { emoji: "👍" })));
  $("photo-input").addEventListener("change", (event) => {
    const [file] = event.target.files;
    event.target.value = "";
    if (file && state.user) {
      act(async () => api("POST", `/users/${state.user.id}/photos`, { image_base64: await readAsBase64(file) }));
    }
  });
}

async function start() {
  wire();
  await loadUsers();
  await loadBots();
  const remembered = Number(localStorage.getItem("sandbox.user"));
  const user = state.users.find((u) => u.id === remembered) || state.users[0];
  if (user) selectUser(user);
}

act(start);
