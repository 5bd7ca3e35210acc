// The login page's message after a failed or throttled attempt (?error=1|wait, &wait=seconds).
(() => {
  'use strict';
  const q = new URLSearchParams(location.search);
  const error = q.get('error');
  if (!error) return;
  const wait = Number(q.get('wait')) || 0;
  const locked = wait >= 60 ? `登录失败次数过多，请 ${Math.ceil(wait / 60)} 分钟后再试。` : '';
  const text =
    error === 'wait'
      ? locked || `登录尝试过于频繁，请 ${wait || 1} 秒后再试。`
      : `用户名或密码不正确。${locked || (wait ? `请 ${wait} 秒后再试。` : '请重试。')}`;
  const p = document.getElementById('error');
  p.textContent = text;
  p.hidden = false;
})();
