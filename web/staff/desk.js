// The case desk page: lists from /api/staff/cases, actions through /api/staff/cases/:id/:action.
(() => {
  'use strict';
  const STATUS = { submitted: '待受理', accepted: '已受理', in_progress: '办理中', replied: '已答复', closed: '已办结' };
  const ACTIONS = { submitted: [['accept', '受理']], accepted: [['start', '开始办理'], ['reply', '答复']], in_progress: [['reply', '答复']], replied: [['close', '办结']] };
  let canAct = false;
  let csrf = '';

  const status = (t) => (document.getElementById('status').textContent = t);
  const fmt = (iso) => new Date(iso).toLocaleString('zh-CN', { hour12: false });

  async function api(path, body) {
    // Every change carries the session's CSRF token (from /api/staff/me).
    const res = await fetch(`/api/staff/${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(body) });
    if (res.status === 401) location.href = '/staff/login';
    const data = await res.json();
    if (!res.ok) throw new Error(data.error || res.statusText);
    return data;
  }

  function table(cases) {
    if (!cases.length) {
      const p = document.createElement('p');
      p.className = 'empty';
      p.textContent = '暂无';
      return p;
    }
    const t = document.createElement('table');
    t.innerHTML = '<thead><tr><th>编号</th><th>类型</th><th>内容</th><th>承办 / 督办</th><th>状态</th><th>时限</th><th>流程</th><th>操作</th></tr></thead>';
    const body = document.createElement('tbody');
    for (const c of cases) {
      const tr = document.createElement('tr');
      const cells = [
        c.id,
        `${c.type}·${c.category || ''}${c.level > 1 ? `（${c.level}级回访）` : ''}`,
        c.description,
        `${c.handlingUnit || ''} / ${c.supervisingUnit || ''}`,
        STATUS[c.status] || c.status,
        fmt(c.dueAt),
        (c.steps || []).map((s) => `${fmt(s.at)} ${s.actor} ${s.action}${s.note ? `：${s.note}` : ''}`).join('\n'),
      ];
      for (const [i, v] of cells.entries()) {
        const td = document.createElement('td');
        td.textContent = v;
        if (i === 5 && new Date(c.dueAt) < new Date() && c.status !== 'closed') td.className = 'overdue';
        if (i === 6) td.className = 'steps';
        tr.appendChild(td);
      }
      const td = document.createElement('td');
      const reveal = document.createElement('button');
      reveal.type = 'button';
      reveal.textContent = '联系方式';
      reveal.addEventListener('click', () => contact(c.id));
      td.appendChild(reveal);
      if (canAct) {
        for (const [action, label] of ACTIONS[c.status] || []) {
          const b = document.createElement('button');
          b.type = 'button';
          b.textContent = label;
          b.addEventListener('click', () => act(c.id, action));
          td.appendChild(b);
        }
      }
      tr.appendChild(td);
      body.appendChild(tr);
    }
    t.appendChild(body);
    return t;
  }

  async function act(id, action) {
    let note;
    if (action === 'reply') {
      note = prompt('答复内容（会告知群众）：');
      if (!note) return;
    }
    try {
      await api(`cases/${encodeURIComponent(id)}/${action}`, note ? { note } : {});
      status(`${id}：操作成功`);
    } catch (e) {
      status(`${id}：${e.message}`);
    }
    load();
  }

  // Each reveal is recorded in the audit log, so contact details are fetched one case at a time.
  async function contact(id) {
    try {
      const c = await api(`cases/${encodeURIComponent(id)}/contact`, {});
      status(`${id}：联系电话 ${c.mobile || '（已清除）'}${c.name ? `，${c.name}` : ''}，${c.consentToContact ? '同意回访' : '不同意回访'}`);
    } catch (e) {
      status(`${id}：${e.message}`);
    }
  }

  async function load() {
    const me = await api('me');
    canAct = (me.roles || []).includes('handler');
    csrf = me.csrfToken || '';
    document.getElementById('csrf').value = csrf;
    document.getElementById('me').textContent = `${me.username}（${canAct ? '办理人员' : '督办人员'}）`;
    const lists = await api('cases');
    for (const key of ['notStarted', 'inProgress', 'overdue']) document.getElementById(key).replaceChildren(table(lists[key]));
  }

  load().catch((e) => status(e.message));
})();
