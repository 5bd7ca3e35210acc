// 小安 web chat: talks to POST /api/chat and listens on /api/chat/events for pushed messages.
(() => {
  'use strict';
  const log = document.getElementById('log');
  const form = document.getElementById('composer');
  const input = document.getElementById('input');
  const typing = document.getElementById('typing');
  const bigger = document.getElementById('bigger');

  // Who the citizen is lives in the server's HttpOnly session cookie, never in the page.
  localStorage.removeItem('xiaoan.userId');

  if (localStorage.getItem('xiaoan.big') === '1') setBig(true);
  bigger.addEventListener('click', () => setBig(!document.documentElement.classList.contains('big')));
  function setBig(on) {
    document.documentElement.classList.toggle('big', on);
    bigger.setAttribute('aria-pressed', String(on));
    localStorage.setItem('xiaoan.big', on ? '1' : '0');
  }

  function scroll() {
    log.scrollTop = log.scrollHeight;
  }

  function bubble(text, who, extra) {
    const div = document.createElement('div');
    div.className = `msg ${who}${extra ? ` ${extra}` : ''}`;
    div.textContent = text;
    log.appendChild(div);
    scroll();
    return div;
  }

  function menu(reply) {
    const box = document.createElement('div');
    box.className = 'menu';
    box.setAttribute('role', 'group');
    const head = document.createElement('p');
    head.className = 'head msg bot';
    head.textContent = reply.head;
    box.appendChild(head);
    const list = document.createElement('ul');
    list.className = 'items';
    for (const item of reply.items) {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = item.label;
      b.dataset.menuId = item.id;
      b.addEventListener('click', () => talk({ menuId: item.id }, item.label));
      li.appendChild(b);
      list.appendChild(li);
    }
    box.appendChild(list);
    if (reply.tail) {
      const tail = document.createElement('p');
      tail.className = 'msg bot';
      tail.textContent = reply.tail;
      box.appendChild(tail);
    }
    log.appendChild(box);
    scroll();
  }

  function render(replies, sources) {
    for (const r of replies) {
      if (r.type === 'text') bubble(r.text, 'bot');
      else if (r.type === 'menu') menu(r);
      else if (r.type === 'link') {
        const a = document.createElement('a');
        a.href = r.url;
        a.textContent = r.title;
        a.rel = 'noopener';
        const div = bubble('', 'bot');
        div.appendChild(a);
      } else if (r.type === 'card') bubble(`${r.title}\n${r.body}`, 'bot');
    }
    if (sources && sources.length) {
      const names = [...new Set(sources.map((s) => s.itemName))];
      const p = document.createElement('p');
      p.className = 'sources';
      p.textContent = `来源：${names.map((n) => `《${n}》`).join('、')}办事指南`;
      log.appendChild(p);
      scroll();
    }
  }

  // What the citizen sends while an answer is on its way waits its turn, in order: nothing
  // typed or tapped is dropped.
  const waiting = [];
  let busy = false;
  function talk(body, shown) {
    if (shown) bubble(shown, 'me');
    waiting.push(body);
    if (!busy) void sendWaiting();
  }
  async function sendWaiting() {
    busy = true;
    typing.hidden = false;
    while (waiting.length) {
      const body = waiting.shift();
      try {
        const res = await fetch('/api/chat', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          credentials: 'same-origin',
          body: JSON.stringify(body),
        });
        const data = await res.json().catch(() => ({}));
        if (!res.ok) bubble(data.error || '发送失败，请稍后再试。', 'bot', 'error');
        else render(data.replies || [], data.sources);
      } catch {
        bubble('网络好像断开了，请检查网络后再试。', 'bot', 'error');
      }
    }
    typing.hidden = true;
    busy = false;
    input.focus();
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    talk({ text }, text);
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });

  // Pushed messages (e.g. a satisfaction survey) arrive while the page is open.
  function listen() {
    if (!('EventSource' in window)) return;
    const events = new EventSource('/api/chat/events');
    events.addEventListener('message', (e) => {
      try {
        render(JSON.parse(e.data).replies || []);
      } catch {
        /* a malformed push is ignored */
      }
    });
  }

  // A reload shows the session's recent messages again; a new session gets the welcome.
  async function start() {
    let messages = [];
    try {
      const res = await fetch('/api/chat/history', { credentials: 'same-origin' });
      if (res.ok) messages = (await res.json()).messages || [];
    } catch {
      /* offline: start with the welcome */
    }
    for (const m of messages) {
      if (m.direction === 'in') {
        if (m.text) bubble(m.text, 'me');
      } else if (m.payload && m.payload.type) render([m.payload]);
      else if (m.text) bubble(m.text, 'bot');
    }
    listen();
    if (!messages.length) talk({ kind: 'event' });
  }
  start();
})();
