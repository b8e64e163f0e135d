// vault-broker live dashboard: plain JavaScript, no build step.
// Two views, each with its own STOMP session: the admin view (/admin/tvl) and the user view
// (/user/{pubkey}/balance, /user/{pubkey}/tx); both also follow /system/health.
'use strict';

(() => {
  const DECIMALS = 6n;                 // amounts are integers in smallest units, USDT-like
  const UNIT = 10n ** DECIMALS;
  const HISTORY_POINTS = 120;          // TVL points kept for the chart
  const ACTIVITY_ITEMS = 50;
  const MAX_TOASTS = 3;

  // The page's own broker (Helidon accepts the upgrade when Origin matches Host). A pasted token
  // must never go anywhere else: ?broker= is honoured only when it is exactly one of the URLs the
  // operator listed (dashboard.broker-urls, served as dashboard.json), and the server's
  // Content-Security-Policy (connect-src) would refuse any other URL even if this check were gone.
  const OWN_BROKER = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/stomp`;
  const BROKER = fetch('dashboard.json', { cache: 'no-store' })
    .then((r) => (r.ok ? r.json() : {}))
    .catch(() => ({}))
    .then((config) => {
      const allowed = Array.isArray(config.brokerUrls) ? config.brokerUrls : [];
      const wanted = new URLSearchParams(location.search).get('broker');
      if (wanted && wanted !== OWN_BROKER && !allowed.includes(wanted)) {
        toast('bad', 'Broker not allowed', `?broker=${wanted} is not in dashboard.broker-urls; using ${OWN_BROKER}`);
        return OWN_BROKER;
      }
      return wanted || OWN_BROKER;
    });

  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- amounts

  // JSON numbers above 2^53 lose digits in JSON.parse; where the browser hands the reviver the
  // source text (Chrome 114+, Firefox 135+), keep such numbers as their exact digits.
  function parseJson(text) {
    return JSON.parse(text, (key, value, context) =>
      typeof value === 'number' && !Number.isSafeInteger(value) && context && context.source
        ? context.source : value);
  }

  /** An amount as a BigInt of smallest units, from a number or a string; null when not an amount. */
  function toUnits(value) {
    if (typeof value === 'bigint') return value;
    if (typeof value === 'number') return Number.isFinite(value) ? BigInt(Math.trunc(value)) : null;
    if (typeof value === 'string') {
      const m = /^\s*(-?)(\d+)(?:\.\d*)?\s*$/.exec(value);
      return m ? BigInt(m[1] + m[2]) : null;
    }
    return null;
  }

  /** 1234567890 (units) -> "1,234.57"; rounds half away from zero to `digits` decimals. */
  function formatUnits(units, digits = 2) {
    if (units === null || units === undefined) return '—';
    const negative = units < 0n;
    let abs = negative ? -units : units;
    const step = 10n ** (DECIMALS - BigInt(digits));
    abs = (abs + step / 2n) / step;                      // now in 10^-digits
    const scale = 10n ** BigInt(digits);
    const whole = (abs / scale).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    const frac = digits > 0 ? '.' + (abs % scale).toString().padStart(digits, '0') : '';
    return (negative && abs > 0n ? '−' : '') + whole + frac;
  }

  const formatAmount = (value) => formatUnits(toUnits(value));

  /** Shows an amount rounded to cents, every digit in the tooltip. */
  function showAmount(element, units) {
    const known = units !== null && units !== undefined;
    element.textContent = formatUnits(units);
    element.title = known ? `${formatUnits(units, Number(DECIMALS))} USDT` : '';
    element.classList.toggle('empty', !known);
  }
  const unitsToNumber = (units) => Number(units) / Number(UNIT);

  const timeOf = (iso) => {
    const d = iso ? new Date(iso) : new Date();
    return Number.isNaN(d.getTime()) ? '—' : d.toLocaleTimeString([], { hour12: false });
  };

  // ---------------------------------------------------------------- small UI helpers

  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;   // never innerHTML: payloads are data
    return e;
  }

  function toast(kind, title, body) {
    const box = $('toasts');
    const t = el('div', `toast ${kind}`);
    t.append(el('strong', null, title));
    if (body) t.append(el('span', null, body));
    box.prepend(t);
    while (box.children.length > MAX_TOASTS) box.lastChild.remove();
    setTimeout(() => t.classList.add('out'), 5500);
    setTimeout(() => t.remove(), 6000);
  }

  function notice(containerId, kind, text) {
    const box = $(containerId);
    if (kind === 'info') box.querySelectorAll('.notice.transient').forEach((n) => n.remove());
    const n = el('div', `notice ${kind}`);
    n.append(el('span', null, text));
    const close = el('button', 'dismiss', '×');
    close.type = 'button';
    close.title = 'dismiss';
    close.onclick = () => n.remove();
    n.append(close);
    box.prepend(n);
    while (box.children.length > 3) box.lastChild.remove();
  }

  /** The token's claims, decoded for display only: the broker is what verifies it. */
  function claimsOf(jwt) {
    try {
      const part = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      return JSON.parse(atob(part + '='.repeat((4 - part.length % 4) % 4)));
    } catch (e) {
      return {};
    }
  }

  // ---------------------------------------------------------------- health badge

  const health = {
    sources: new Map(),  // view name -> {status, reason, lagMs} while that view is connected
    set(view, data) {
      if (data) this.sources.set(view, data); else this.sources.delete(view);
      const badge = $('health-badge');
      const all = [...this.sources.values()];
      if (all.length === 0) {
        badge.dataset.status = 'unknown';
        badge.textContent = 'health: not connected';
        badge.title = '/system/health';
        $('feed-lag').textContent = '—';
        return;
      }
      const worst = all.find((h) => h.status !== 'ok') || all[0];
      badge.dataset.status = worst.status === 'ok' ? 'ok' : 'degraded';
      badge.textContent = worst.status === 'ok' ? 'health: ok' : `health: ${worst.status}`;
      badge.title = `${worst.reason || 'all good'} · feed lag ${worst.lagMs ?? '?'} ms`;
      $('feed-lag').textContent = worst.lagMs === undefined ? '—' : `${worst.lagMs} ms`;
    },
  };

  // ---------------------------------------------------------------- one STOMP session with resume

  // Errors after which reconnecting with the same credential cannot help.
  const FATAL = new Set(['authentication failed', 'token expired', 'access denied', 'unknown destination']);

  /**
   * One STOMP session that reconnects by itself (exponential back-off, the server's retry hint
   * when it shuts down) and resumes each destination after the last message-id it processed.
   */
  class LiveSession {
    constructor({ view, token, destinations, onState, onNotice, onLive = () => {} }) {
      this.view = view;
      this.destinations = destinations;      // [{destination, onMessage(envelope, info)}]
      this.onState = onState;
      this.onNotice = onNotice;
      this.onLive = onLive;
      this.lastIds = new Map();              // destination -> highest row id processed (BigInt)
      this.highWater = null;                 // highest row id seen on any destination (BigInt)
      this.liveSince = null;                 // Date.now() when the current connection went live
      this.everLive = false;
      this.reconnects = 0;
      this.closeReason = null;               // the server's ERROR message before the last close
      this.retryAfterMs = 0;                 // the server's x-retry-after-ms hint, used once
      this.client = new StompJs.Client({
        brokerURL: OWN_BROKER,               // replaced by the checked URL before each connect
        connectHeaders: { login: 'dashboard', passcode: token, host: location.host },
        reconnectDelay: 1000,
        maxReconnectDelay: 30000,
        reconnectTimeMode: StompJs.ReconnectionTimeMode.EXPONENTIAL,
        heartbeatIncoming: 10000,
        heartbeatOutgoing: 10000,
        connectionTimeout: 10000,
        debug: () => {},                       // stompjs would log frames; keep tokens out of consoles
        beforeConnect: async () => {
          this.client.brokerURL = await BROKER;
          await this.waitForRetryHint();
        },
        onConnect: () => this.subscribeAll(),
        onStompError: (frame) => this.serverError(frame),
        onWebSocketClose: () => {
          health.set(this.view, null);
          this.liveSince = null;
          this.onLive(this);
          if (this.client.active) this.onState('reconnecting', 'reconnecting…');
        },
      });
    }

    start() {
      this.onState('connecting', 'connecting…');
      this.client.activate();
    }

    stop(state = 'idle', text = 'not connected') {
      this.client.deactivate();
      health.set(this.view, null);
      this.liveSince = null;
      this.onLive(this);
      this.onState(state, text);
    }

    async waitForRetryHint() {
      const wait = this.retryAfterMs;
      this.retryAfterMs = 0;
      if (wait > 0) {
        this.onState('reconnecting', `server restarting · retry in ${Math.ceil(wait / 1000)} s`);
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }

    subscribeAll() {
      const all = [...this.destinations, { destination: '/system/health', onMessage: (env) => health.set(this.view, env.data) }];
      let pending = all.length;
      all.forEach((d, i) => {
        const headers = { id: `s${i}`, receipt: `r${i}-${Date.now()}` };
        const resume = this.resumePoint(d.destination);
        if (resume) headers['x-resume-after'] = resume;   // the replay is the catch-up; no snapshot
        this.client.watchForReceipt(headers.receipt, () => {
          if (--pending === 0) this.wentLive();
        });
        this.client.subscribe(d.destination, (m) => this.deliver(d, m), headers);
      });
    }

    wentLive() {
      if (this.everLive) {
        this.reconnects += 1;
        this.onNotice('info', `Reconnected${this.closeReason ? ` after “${this.closeReason}”` : ''}; `
          + 'resumed where it left off.');
      }
      this.everLive = true;
      this.closeReason = null;
      this.liveSince = Date.now();
      this.onState('live', 'live');
      this.onLive(this);
    }

    // After a reconnect: the last row id of this destination; for a destination that has had no
    // row yet (a quiet tx feed), the highest row id seen on the others: the feed routes rows in
    // id order, so its rows below a live one reached this session before the cut. When that id
    // came from a snapshot, rows between it and the first SUBSCRIBE, which predate this page, may
    // arrive as well: a stale notification beats a lost one.
    resumePoint(destination) {
      if (this.highWater === null || destination === '/system/health') return null;
      return (this.lastIds.get(destination) ?? this.highWater).toString();
    }

    deliver(d, message) {
      const h = message.headers;
      const id = h['message-id'] || '';
      // Row ids are decimal; health and gap notices carry ids that start with a letter.
      // A late row (x-late) may carry a lower id: the resume point only moves forward.
      if (/^\d+$/.test(id)) {
        const n = BigInt(id);
        const last = this.lastIds.get(d.destination);
        if (last === undefined || n > last) this.lastIds.set(d.destination, n);
        if (this.highWater === null || n > this.highWater) this.highWater = n;
      }
      let envelope;
      try {
        envelope = parseJson(message.body);
      } catch (e) {
        return;
      }
      if (h['x-resume'] === 'gap' || envelope.event === 'resume_gap') {
        this.onNotice('gap', `Some events on ${d.destination} are older than the broker keeps; `
          + 'the figures shown catch up with the events that follow.');
        return;
      }
      d.onMessage(envelope, { snapshot: h['x-snapshot'] === 'true', late: h['x-late'] === 'true' });
    }

    serverError(frame) {
      const reason = frame.headers.message || 'error';
      if (FATAL.has(reason)) {
        this.onNotice('error', `The broker refused the session: ${reason}.`);
        this.stop('error', reason);
        return;
      }
      const hint = Number(frame.headers['x-retry-after-ms']);
      if (hint > 0) this.retryAfterMs = Math.min(hint, 120000);
      this.closeReason = reason;
      this.onNotice('warn transient', `The broker closed the session (${reason}); reconnecting and resuming.`);
    }
  }

  // ---------------------------------------------------------------- views

  /** Wires a view's form: Connect starts a session, Disconnect ends it. */
  function bindForm({ form, button, inputs, conn, create }) {
    let session = null;
    const setState = (state, text) => {
      conn.dataset.state = state;
      conn.textContent = text;
      const active = state !== 'idle' && state !== 'error';
      button.textContent = active ? 'Disconnect' : 'Connect';
      button.classList.toggle('primary', !active);
      inputs.forEach((i) => { i.disabled = active; });
      if (!active) session = null;
    };
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (session) {
        session.stop();
        return;
      }
      session = create(setState);
      if (session) session.start();
    });
  }

  // Admin view ------------------------------------------------------------

  const tvl = { points: [], count: 0, last: null };

  function onTvl(envelope) {
    if (envelope.event !== 'tvl_update') return;
    const d = envelope.data || {};
    const units = toUnits(d.tvl ?? d.totalValueLocked ?? d.value);
    if (units === null) return;
    tvl.count += 1;
    const delta = tvl.last === null ? null : units - tvl.last;
    tvl.last = units;
    tvl.points.push({ t: Date.parse(envelope.timestamp) || Date.now(), v: unitsToNumber(units) });
    if (tvl.points.length > HISTORY_POINTS) tvl.points.shift();

    showAmount($('tvl-value'), units);
    $('tvl-count').textContent = String(tvl.count);
    $('tvl-time').textContent = timeOf(envelope.timestamp);
    const deltaEl = $('tvl-delta');
    if (delta === null || delta === 0n) {
      deltaEl.textContent = '';
      deltaEl.dataset.sign = '';
    } else {
      deltaEl.textContent = `${delta > 0n ? '▲ +' : '▼ '}${formatUnits(delta)}`;
      deltaEl.dataset.sign = delta > 0n ? 'up' : 'down';
    }
    drawChart();
  }

  let adminSession = null;

  function showUptime() {
    const since = adminSession && adminSession.liveSince;
    if (!since) {
      $('admin-uptime').textContent = '—';
      return;
    }
    const s = Math.floor((Date.now() - since) / 1000);
    const hms = [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60];
    $('admin-uptime').textContent = (hms[0] ? `${hms[0]}:` : '')
      + hms.slice(1).map((n) => String(n).padStart(2, '0')).join(':');
  }
  setInterval(showUptime, 1000);

  function drawChart() {
    const canvas = $('tvl-chart');
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    const g = canvas.getContext('2d');
    g.scale(dpr, dpr);
    g.clearRect(0, 0, w, h);

    const css = getComputedStyle(document.documentElement);
    const accent = css.getPropertyValue('--accent').trim() || '#22d3a6';
    const grid = css.getPropertyValue('--grid').trim() || '#1f2a3a';
    const muted = css.getPropertyValue('--muted').trim() || '#8392a7';
    const pad = { top: 10, right: 8, bottom: 18, left: 8 };
    const pw = w - pad.left - pad.right;
    const ph = h - pad.top - pad.bottom;

    g.strokeStyle = grid;
    g.lineWidth = 1;
    for (let i = 0; i <= 3; i++) {
      const y = Math.round(pad.top + (ph * i) / 3) + 0.5;
      g.beginPath();
      g.moveTo(pad.left, y);
      g.lineTo(w - pad.right, y);
      g.stroke();
    }

    const pts = tvl.points;
    g.font = '11px system-ui, sans-serif';
    g.fillStyle = muted;
    if (pts.length < 2) {
      g.textAlign = 'center';
      g.fillText(pts.length ? 'waiting for the next update…' : 'no TVL updates yet', w / 2, pad.top + ph / 2 + 4);
      return;
    }
    let min = Math.min(...pts.map((p) => p.v));
    let max = Math.max(...pts.map((p) => p.v));
    const span = max - min || Math.abs(max) * 0.01 || 1;
    min = min >= 0 ? Math.max(0, min - span * 0.12) : min - span * 0.12;   // TVL is never negative
    max += span * 0.12;
    const x = (i) => pad.left + (pw * i) / (pts.length - 1);
    const y = (v) => pad.top + ph - ((v - min) / (max - min)) * ph;

    const fill = g.createLinearGradient(0, pad.top, 0, pad.top + ph);
    fill.addColorStop(0, hexAlpha(accent, 0.35));
    fill.addColorStop(1, hexAlpha(accent, 0));
    g.beginPath();
    pts.forEach((p, i) => (i ? g.lineTo(x(i), y(p.v)) : g.moveTo(x(i), y(p.v))));
    g.lineTo(x(pts.length - 1), pad.top + ph);
    g.lineTo(x(0), pad.top + ph);
    g.closePath();
    g.fillStyle = fill;
    g.fill();

    g.beginPath();
    pts.forEach((p, i) => (i ? g.lineTo(x(i), y(p.v)) : g.moveTo(x(i), y(p.v))));
    g.strokeStyle = accent;
    g.lineWidth = 2;
    g.lineJoin = 'round';
    g.stroke();

    const lx = x(pts.length - 1);
    const ly = y(pts[pts.length - 1].v);
    g.beginPath();
    g.arc(lx, ly, 3.5, 0, Math.PI * 2);
    g.fillStyle = accent;
    g.fill();

    g.fillStyle = muted;
    g.textAlign = 'left';
    const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 3 });
    const card = css.getPropertyValue('--card').trim() || '#151e2e';
    g.strokeStyle = card;                    // a halo keeps the labels readable over the line
    g.lineWidth = 4;
    for (const [v, ly] of [[max, pad.top + 12], [min, pad.top + ph - 4]]) {
      g.strokeText(compact.format(v), pad.left + 2, ly);
      g.fillText(compact.format(v), pad.left + 2, ly);
    }
    g.fillText(timeOf(new Date(pts[0].t).toISOString()), pad.left, h - 4);
    g.textAlign = 'right';
    g.fillText(timeOf(new Date(pts[pts.length - 1].t).toISOString()), w - pad.right, h - 4);
  }

  function hexAlpha(hex, alpha) {
    const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
    return m ? `rgba(${parseInt(m[1], 16)},${parseInt(m[2], 16)},${parseInt(m[3], 16)},${alpha})` : hex;
  }

  bindForm({
    form: $('admin-form'),
    button: $('admin-connect'),
    inputs: [$('admin-token')],
    conn: $('admin-conn'),
    create: (setState) => {
      const token = $('admin-token').value.trim();
      if (!token) {
        notice('admin-notices', 'warn', 'Paste an admin token first.');
        return null;
      }
      const roles = claimsOf(token).roles;
      if (Array.isArray(roles) && !roles.includes('admin')) {
        notice('admin-notices', 'warn', 'This token has no admin role: /admin/tvl will be refused.');
      }
      return new LiveSession({
        view: 'admin',
        token,
        destinations: [{ destination: '/admin/tvl', onMessage: onTvl }],
        onState: setState,
        onNotice: (kind, text) => notice('admin-notices', kind, text),
        onLive: (session) => {
          adminSession = session;
          $('admin-reconnects').textContent = String(session.reconnects);
          showUptime();
        },
      });
    },
  });

  // User view -------------------------------------------------------------

  const balance = { total: null, locked: null, available: null };

  function showBalance() {
    for (const [id, units] of [['balance-total', balance.total], ['balance-locked', balance.locked],
      ['balance-available', balance.available]]) {
      showAmount($(id), units);
    }
    let pct = 0;
    if (balance.total !== null && balance.locked !== null && balance.total > 0n) {
      pct = Number((balance.locked * 10000n) / balance.total) / 100;
    }
    pct = Math.max(0, Math.min(100, pct));
    $('usage-bar').style.width = `${pct}%`;
    $('usage-pct').textContent = `${pct.toFixed(pct > 0 && pct < 10 ? 1 : 0)}%`;
  }

  function onBalance(envelope, info) {
    const d = envelope.data || {};
    const locked = toUnits(d.lockedBalance);
    const available = toUnits(d.availableBalance);
    if (envelope.event === 'balance_update') {
      balance.total = toUnits(d.totalBalance);
      balance.locked = locked;
      balance.available = available ?? (balance.total !== null && locked !== null ? balance.total - locked : null);
    } else if (envelope.event === 'collateral_locked' || envelope.event === 'collateral_unlocked') {
      if (locked !== null) balance.locked = locked;
      if (available !== null) balance.available = available;
      if (locked !== null && available !== null) balance.total = locked + available;
      const isLock = envelope.event === 'collateral_locked';
      const title = isLock ? 'Collateral locked' : 'Collateral unlocked';
      addActivity(isLock ? 'lock' : 'unlock', title, d.positionId ? `position ${d.positionId}` : '',
        `${isLock ? '−' : '+'}${formatAmount(d.amount)}`, envelope.timestamp, info);
      if (!info.snapshot) toast(isLock ? 'lock' : 'unlock', title, `${formatAmount(d.amount)} USDT`);
    }
    showBalance();
  }

  function onTx(envelope, info) {
    const d = envelope.data || {};
    const kind = envelope.event.replace(/^transaction_/, '');       // confirmed, failed, …
    const type = d.transactionType || 'transaction';
    const title = `${type[0].toUpperCase()}${type.slice(1)} ${kind}`;
    const sign = type === 'withdraw' || type === 'withdrawal' ? '−' : '+';
    const detail = d.transactionId ? `tx ${d.transactionId}` : '';
    addActivity(kind === 'confirmed' ? 'ok' : 'bad', title, detail, `${sign}${formatAmount(d.amount)}`, envelope.timestamp, info);
    if (!info.snapshot) toast(kind === 'confirmed' ? 'ok' : 'bad', title, `${formatAmount(d.amount)} USDT`);
  }

  function addActivity(kind, title, detail, amount, timestamp, info) {
    const list = $('activity');
    const empty = list.querySelector('.empty');
    if (empty) empty.remove();
    const li = el('li', `event ${kind}`);
    li.append(el('span', 'dot'));
    const text = el('div', 'what');
    text.append(el('span', 'title', title));
    text.append(el('span', 'detail', [detail, info.late ? 'late' : ''].filter(Boolean).join(' · ')));
    li.append(text);
    li.append(el('span', `amount ${amount.startsWith('−') ? 'neg' : 'pos'}`, amount));
    li.append(el('time', 'when', timeOf(timestamp)));
    list.prepend(li);
    while (list.children.length > ACTIVITY_ITEMS) list.lastChild.remove();
  }

  function resetUser(pubkey) {
    $('user-owner').textContent = pubkey;
    Object.assign(balance, { total: null, locked: null, available: null });
    showBalance();
    const list = $('activity');
    list.replaceChildren(el('li', 'empty', 'No events yet.'));
  }

  bindForm({
    form: $('user-form'),
    button: $('user-connect'),
    inputs: [$('user-token'), $('user-pubkey')],
    conn: $('user-conn'),
    create: (setState) => {
      const token = $('user-token').value.trim();
      if (!token) {
        notice('user-notices', 'warn', 'Paste a token first.');
        return null;
      }
      const pubkey = $('user-pubkey').value.trim() || claimsOf(token).sub || '';
      if (!/^[1-9A-HJ-NP-Za-km-z]{32,44}$/.test(pubkey)) {
        notice('user-notices', 'warn', 'Enter the wallet pubkey (base58) to follow.');
        return null;
      }
      if ($('user-owner').textContent !== pubkey) resetUser(pubkey);
      return new LiveSession({
        view: 'user',
        token,
        destinations: [
          { destination: `/user/${pubkey}/balance`, onMessage: onBalance },
          { destination: `/user/${pubkey}/tx`, onMessage: onTx },
        ],
        onState: setState,
        onNotice: (kind, text) => notice('user-notices', kind, text),
      });
    },
  });

  BROKER.then((url) => { $('broker-url').textContent = url; });
  window.addEventListener('resize', drawChart);
  drawChart();
})();
