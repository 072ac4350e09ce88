/*
 * Practice Bot — local workspace page.
 *
 * Plain browser JavaScript, no build step. The first half of this file is the
 * pure rendering layer (mrkdwn -> HTML string, Block Kit -> DOM); it only needs a
 * `document` with createElement/createTextNode, so node can load it for tests:
 *     global.document = fakeDocument; const pb = require('./bot/static/app.js');
 * The second half is the app (polling, sidebar, composer, modal) and only starts
 * in a browser.
 */
(function () {
  'use strict';

  // ---------------------------------------------------------------- escaping

  var HTML_ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

  function escapeHtml(s) {
    return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) { return HTML_ESC[c]; });
  }

  // Slack message text arrives with &, < and > escaped as entities.
  function decodeSlackEntities(s) {
    return String(s).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  }

  var EMOJI = {
    white_check_mark: '\u2705', heavy_check_mark: '\u2714\ufe0f', ballot_box_with_check: '\u2611\ufe0f',
    x: '\u274c', negative_squared_cross_mark: '\u274e', warning: '\u26a0\ufe0f', no_entry: '\u26d4',
    no_entry_sign: '\ud83d\udeab', rotating_light: '\ud83d\udea8', exclamation: '\u2757',
    heavy_exclamation_mark: '\u2757', question: '\u2753', information_source: '\u2139\ufe0f',
    calendar: '\ud83d\udcc6', date: '\ud83d\udcc5', spiral_calendar_pad: '\ud83d\uddd3\ufe0f',
    spiral_calendar: '\ud83d\uddd3\ufe0f', alarm_clock: '\u23f0', clock: '\ud83d\udd50',
    clock1: '\ud83d\udd50', stopwatch: '\u23f1\ufe0f', hourglass: '\u231b',
    hourglass_flowing_sand: '\u23f3', wave: '\ud83d\udc4b', tada: '\ud83c\udf89', memo: '\ud83d\udcdd',
    pencil: '\ud83d\udcdd', pencil2: '\u270f\ufe0f', clipboard: '\ud83d\udccb', bell: '\ud83d\udd14',
    no_bell: '\ud83d\udd15', red_circle: '\ud83d\udd34', large_orange_circle: '\ud83d\udfe0',
    orange_circle: '\ud83d\udfe0', large_yellow_circle: '\ud83d\udfe1', yellow_circle: '\ud83d\udfe1',
    large_green_circle: '\ud83d\udfe2', green_circle: '\ud83d\udfe2', large_blue_circle: '\ud83d\udd35',
    blue_circle: '\ud83d\udd35', white_circle: '\u26aa', black_circle: '\u26ab',
    red_square: '\ud83d\udfe5', orange_square: '\ud83d\udfe7', yellow_square: '\ud83d\udfe8',
    green_square: '\ud83d\udfe9', house: '\ud83c\udfe0', house_with_garden: '\ud83c\udfe1',
    books: '\ud83d\udcda', book: '\ud83d\udcd6', bar_chart: '\ud83d\udcca',
    chart_with_upwards_trend: '\ud83d\udcc8', chart_with_downwards_trend: '\ud83d\udcc9',
    mag: '\ud83d\udd0d', bulb: '\ud83d\udca1', raised_hands: '\ud83d\ude4c', thumbsup: '\ud83d\udc4d',
    '+1': '\ud83d\udc4d', thumbsdown: '\ud83d\udc4e', '-1': '\ud83d\udc4e', smile: '\ud83d\ude04',
    slightly_smiling_face: '\ud83d\ude42', eyes: '\ud83d\udc40', pushpin: '\ud83d\udccc',
    round_pushpin: '\ud83d\udccd', link: '\ud83d\udd17', lock: '\ud83d\udd12',
    bust_in_silhouette: '\ud83d\udc64', busts_in_silhouette: '\ud83d\udc65', child: '\ud83e\uddd2',
    family: '\ud83d\udc6a', arrow_right: '\u27a1\ufe0f', arrow_forward: '\u25b6\ufe0f',
    point_right: '\ud83d\udc49', repeat: '\ud83d\udd01', zzz: '\ud83d\udca4', star: '\u2b50',
    sparkles: '\u2728', fire: '\ud83d\udd25', heart: '\u2764\ufe0f', speech_balloon: '\ud83d\udcac',
    envelope: '\u2709\ufe0f', inbox_tray: '\ud83d\udce5', outbox_tray: '\ud83d\udce4',
    gear: '\u2699\ufe0f', hammer_and_wrench: '\ud83d\udee0\ufe0f', new: '\ud83c\udd95',
    construction: '\ud83d\udea7', checkered_flag: '\ud83c\udfc1', muscle: '\ud83d\udcaa',
    pray: '\ud83d\ude4f', ok_hand: '\ud83d\udc4c', school: '\ud83c\udfeb', hospital: '\ud83c\udfe5',
    car: '\ud83d\ude97', telephone_receiver: '\ud83d\udcde', phone: '\u260e\ufe0f',
    page_facing_up: '\ud83d\udcc4', file_folder: '\ud83d\udcc1', open_file_folder: '\ud83d\udcc2',
    scales: '\u2696\ufe0f', shield: '\ud83d\udee1\ufe0f', handshake: '\ud83e\udd1d',
    hourglass_done: '\u231b', small_blue_diamond: '\ud83d\udd39', small_orange_diamond: '\ud83d\udd38',
    large_blue_diamond: '\ud83d\udd37', large_orange_diamond: '\ud83d\udd36', robot_face: '\ud83e\udd16',
    seedling: '\ud83c\udf31', sunrise: '\ud83c\udf05'
  };

  function replaceEmoji(s) {
    return String(s).replace(/:([a-z0-9_+\-]+):/g, function (m, name) {
      return Object.prototype.hasOwnProperty.call(EMOJI, name) ? EMOJI[name] : m;
    });
  }

  // ---------------------------------------------------------------- mrkdwn

  // Characters allowed just before an opening / just after a closing *, _ or ~.
  // \u0001 / \u0002 delimit placeholders for already-rendered tokens.
  var PRE = '(^|[\\s(\\[{"\'.,;:!?>*_~\\-\\u0002])';
  var POST = '(?=$|[&\\s)\\]}"\'.,;:!?<*_~\\-\\u0001])';

  function styleRegex(ch) {
    var c = '\\' + ch;
    return new RegExp(PRE + c + '(?![\\s' + c + '])([^' + c + '\\n]*?[^\\s' + c + '])' + c + POST, 'g');
  }
  var STYLES = [[styleRegex('*'), 'b'], [styleRegex('_'), 'i'], [styleRegex('~'), 's']];

  function userName(id, ctx) {
    var u = ctx && ctx.usersById && ctx.usersById[id];
    return u ? (u.real_name || u.name || id) : null;
  }

  function channelName(id, ctx) {
    var c = ctx && ctx.channelsById && ctx.channelsById[id];
    return c ? String(c.name || id).replace(/^#/, '') : null;
  }

  function safeUrl(url) {
    return /^(https?:|mailto:|tel:)/i.test(url) ? url : null;
  }

  // Render the inside of a <...> token (raw, still entity-escaped) to HTML.
  function renderToken(inner, ctx) {
    var bar = inner.indexOf('|');
    var target = bar >= 0 ? inner.slice(0, bar) : inner;
    var label = bar >= 0 ? decodeSlackEntities(inner.slice(bar + 1)) : null;
    var first = target.charAt(0);
    if (first === '@') {
      var uid = target.slice(1);
      var uname = userName(uid, ctx) || (label ? label.replace(/^@/, '') : uid);
      var me = ctx && ctx.currentUser === uid ? ' mention-me' : '';
      return '<span class="mention' + me + '">@' + escapeHtml(uname) + '</span>';
    }
    if (first === '#') {
      var cid = target.slice(1);
      var cname = label || channelName(cid, ctx) || cid;
      return '<a class="channel-link" href="#" data-channel="' + escapeHtml(cid) + '">#' +
        escapeHtml(cname.replace(/^#/, '')) + '</a>';
    }
    if (first === '!') {
      var special = target.slice(1);
      var word = special.split('^')[0];
      if (word === 'here' || word === 'channel' || word === 'everyone') {
        return '<span class="mention">@' + escapeHtml(word) + '</span>';
      }
      if (word === 'subteam') {
        return '<span class="mention">' + escapeHtml(label || '@group') + '</span>';
      }
      if (word === 'date') {
        if (label) return escapeHtml(label);
        var secs = Number(special.split('^')[1]);
        return escapeHtml(isFinite(secs) ? new Date(secs * 1000).toLocaleString('en-GB') : special);
      }
      return escapeHtml(label || ('@' + word));
    }
    var url = decodeSlackEntities(target);
    var ok = safeUrl(url);
    if (ok) {
      var text = label != null && label !== '' ? label : url.replace(/^mailto:/i, '');
      return '<a href="' + escapeHtml(ok) + '" target="_blank" rel="noopener noreferrer">' +
        escapeHtml(text) + '</a>';
    }
    // Not a Slack token (e.g. "a < b > c"): show it as typed.
    return escapeHtml('<' + decodeSlackEntities(inner) + '>');
  }

  function renderInline(line, ctx) {
    var slots = [];
    function hold(html) { slots.push(html); return '\u0001' + (slots.length - 1) + '\u0002'; }
    var s = line.replace(/[\u0001\u0002]/g, '');
    s = s.replace(/`([^`\n]+)`/g, function (m, code) {
      return hold('<code>' + escapeHtml(decodeSlackEntities(code)) + '</code>');
    });
    s = s.replace(/<([^<>\n]+)>/g, function (m, inner) { return hold(renderToken(inner, ctx)); });
    s = escapeHtml(replaceEmoji(decodeSlackEntities(s)));
    for (var i = 0; i < STYLES.length; i++) {
      s = s.replace(STYLES[i][0], '$1<' + STYLES[i][1] + '>$2</' + STYLES[i][1] + '>');
    }
    return s.replace(/\u0001(\d+)\u0002/g, function (m, n) { return slots[Number(n)]; });
  }

  function renderLines(part, ctx) {
    var lines = part.split('\n');
    var items = [];
    var quoteRest = false;
    for (var i = 0; i < lines.length; i++) {
      var line = lines[i];
      var quoted = quoteRest;
      if (!quoted) {
        var m3 = /^(?:>|&gt;){3}[ \t]?/.exec(line);
        var m1 = /^(?:>|&gt;)[ \t]?/.exec(line);
        if (m3) { quoteRest = true; quoted = true; line = line.slice(m3[0].length); }
        else if (m1) { quoted = true; line = line.slice(m1[0].length); }
      }
      items.push({ q: quoted, html: renderInline(line, ctx) });
    }
    var out = '';
    var j = 0;
    while (j < items.length) {
      var q = items[j].q;
      var group = [];
      while (j < items.length && items[j].q === q) group.push(items[j++].html);
      out += q ? '<blockquote>' + group.join('\n') + '</blockquote>' : group.join('\n');
    }
    return out;
  }

  /** Slack mrkdwn -> safe HTML string (all text escaped). */
  function mrkdwn(text, ctx) {
    var src = String(text == null ? '' : text);
    var parts = src.split('```');
    if (parts.length % 2 === 0) {
      // Unmatched fence: keep the last one as literal text.
      var tail = parts.pop();
      parts[parts.length - 1] += '```' + tail;
    }
    var out = '';
    for (var i = 0; i < parts.length; i++) {
      var p = parts[i];
      if (i % 2 === 1) {
        p = p.replace(/^\n/, '').replace(/\n$/, '');
        out += '<pre>' + escapeHtml(decodeSlackEntities(p)) + '</pre>';
      } else {
        if (i > 0) p = p.replace(/^\n/, '');
        if (i < parts.length - 1) p = p.replace(/\n$/, '');
        if (p !== '') out += renderLines(p, ctx);
      }
    }
    return out;
  }

  /** Text of a plain_text object (emoji codes replaced), as a raw string for textContent. */
  function plainText(obj) {
    if (obj == null) return '';
    if (typeof obj === 'string') return obj;
    var t = String(obj.text == null ? '' : obj.text);
    return obj.emoji === false ? t : replaceEmoji(t);
  }

  // ---------------------------------------------------------------- DOM helpers

  function doc() { return document; }

  var PROPS = { value: 1, checked: 1, selected: 1, disabled: 1, multiple: 1, hidden: 1 };

  function h(tag, props) {
    var el = doc().createElement(tag);
    if (props) {
      for (var k in props) {
        if (!Object.prototype.hasOwnProperty.call(props, k)) continue;
        var v = props[k];
        if (v == null || v === false) continue;
        if (k === 'class') el.className = v;
        else if (k === 'text') el.textContent = v;
        else if (k === 'html') el.innerHTML = v;
        else if (k.slice(0, 2) === 'on' && typeof v === 'function') el.addEventListener(k.slice(2), v);
        else if (PROPS[k]) el[k] = v;
        else el.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }

  function append(el, child) {
    if (child == null || child === false) return;
    if (Array.isArray(child)) { for (var i = 0; i < child.length; i++) append(el, child[i]); return; }
    el.appendChild(typeof child === 'string' ? doc().createTextNode(child) : child);
  }

  /** A Slack text object (mrkdwn or plain_text) as a <span>/<div>. */
  function textNode(obj, ctx, cls, tag) {
    var el = h(tag || 'span', { class: cls || null });
    if (obj && obj.type === 'mrkdwn') {
      el.className = (cls ? cls + ' ' : '') + 'mrkdwn';
      el.innerHTML = mrkdwn(obj.text, ctx);
    } else {
      el.className = (cls ? cls + ' ' : '') + 'plain';
      el.textContent = plainText(obj);
    }
    return el;
  }

  var uid = 0;
  function nextId(prefix) { uid += 1; return (prefix || 'bk') + uid; }

  // ---------------------------------------------------------------- Block Kit

  function optionPayload(opt) {
    if (!opt) return null;
    var t = opt.text || {};
    return { text: { type: t.type || 'plain_text', text: String(t.text == null ? '' : t.text) }, value: opt.value };
  }

  function flatOptions(el) {
    var flat = [];
    if (el.option_groups) {
      el.option_groups.forEach(function (g) {
        (g.options || []).forEach(function (o) { flat.push({ opt: o, group: g }); });
      });
    } else {
      (el.options || []).forEach(function (o) { flat.push({ opt: o, group: null }); });
    }
    return flat;
  }

  function isEmptyState(st) {
    if (!st) return true;
    switch (st.type) {
      case 'static_select': case 'external_select': case 'radio_buttons':
        return !st.selected_option;
      case 'checkboxes': case 'multi_static_select': case 'multi_external_select':
        return !st.selected_options || st.selected_options.length === 0;
      case 'datepicker': return !st.selected_date;
      case 'timepicker': return !st.selected_time;
      case 'users_select': return !st.selected_user;
      case 'multi_users_select': return !st.selected_users || st.selected_users.length === 0;
      case 'conversations_select': return !st.selected_conversation;
      case 'channels_select': return !st.selected_channel;
      case 'rich_text_input': return !richInputText(st);
      default: return st.value == null || String(st.value).trim() === '';
    }
  }

  function richInputText(st) {
    try { return st.rich_text_value.elements[0].elements[0].text; } catch (e) { return ''; }
  }

  /**
   * Render one interactive element. Returns a DOM node; stateful elements are
   * registered in ctx.registry as {blockId, actionId, type, get(), set(state), ...}.
   * `dispatch` says whether a change is sent to the bot as a block action.
   */
  function renderElement(el, blockId, actionId, ctx, opts) {
    opts = opts || {};
    var dispatch = !!opts.dispatch;
    var type = el.type;
    var reg = ctx.registry || (ctx.registry = []);

    function send(fields, node) {
      if (!dispatch || !ctx.onAction) return;
      var action = { type: type, action_id: actionId, block_id: blockId };
      for (var k in fields) if (Object.prototype.hasOwnProperty.call(fields, k)) action[k] = fields[k];
      var p = ctx.onAction(action);
      if (node && p && typeof p.then === 'function') {
        node.classList && node.classList.add('busy');
        p.then(done, done);
      }
      function done() { node.classList && node.classList.remove('busy'); }
    }

    function register(entry) {
      entry.blockId = blockId;
      entry.actionId = actionId;
      entry.type = type;
      entry.element = el;
      entry.inInput = !!opts.inInput;
      entry.optional = !!opts.optional;
      reg.push(entry);
      return entry;
    }

    function confirmOk(conf) {
      if (!conf || typeof window === 'undefined' || !window.confirm) return true;
      var msg = plainText(conf.title) + '\n\n' + (conf.text ? plainText(conf.text) : '');
      return window.confirm(msg.trim());
    }

    switch (type) {
      case 'button': {
        var cls = 'bk-btn' + (el.style === 'primary' ? ' primary' : el.style === 'danger' ? ' danger' : '');
        var btn = h('button', { type: 'button', class: cls, title: el.accessibility_label || null },
          plainText(el.text));
        btn.addEventListener('click', function () {
          if (!confirmOk(el.confirm)) return;
          if (el.url && typeof window !== 'undefined') {
            var u = safeUrl(el.url);
            if (u) window.open(u, '_blank', 'noopener');
          }
          var f = { text: el.text };
          if (el.value != null) f.value = el.value;
          if (!dispatch || !ctx.onAction) return;
          btn.disabled = true;
          var action = { type: 'button', action_id: actionId, block_id: blockId };
          for (var k in f) action[k] = f[k];
          Promise.resolve(ctx.onAction(action)).then(enable, enable);
          function enable() { btn.disabled = false; }
        });
        return btn;
      }

      case 'static_select': case 'external_select': case 'users_select':
      case 'conversations_select': case 'channels_select': {
        var items; // [{key, label, group, payload}]
        if (type === 'users_select') {
          items = (ctx.users || []).filter(function (u) { return u.id !== ctx.botUserId; })
            .map(function (u) { return { key: u.id, label: u.real_name || u.name || u.id }; });
        } else if (type === 'conversations_select' || type === 'channels_select') {
          items = (ctx.conversations || [])
            .filter(function (c) { return type === 'conversations_select' || c.kind === 'channel'; })
            .map(function (c) { return { key: c.id, label: (c.kind === 'channel' ? '#' : '') + String(c.name).replace(/^#/, '') }; });
        } else {
          items = flatOptions(el).map(function (f, i) {
            return { key: String(i), label: plainText(f.opt.text), group: f.group, opt: f.opt };
          });
        }
        var sel = h('select', { class: 'bk-select' });
        var ph = h('option', { value: '', disabled: true },
          plainText(el.placeholder) || (type === 'users_select' ? 'Select a person' : 'Select an option'));
        sel.appendChild(ph);
        var lastGroup = null, parent = sel;
        items.forEach(function (it) {
          if (it.group && it.group !== lastGroup) {
            lastGroup = it.group;
            parent = h('optgroup', { label: plainText(it.group.label) });
            sel.appendChild(parent);
          }
          parent.appendChild(h('option', { value: it.key }, it.label));
        });
        var current = null; // item
        function findBy(pred) { for (var i = 0; i < items.length; i++) if (pred(items[i])) return items[i]; return null; }
        function stateOf(it) {
          if (type === 'users_select') return { type: type, selected_user: it ? it.key : null };
          if (type === 'conversations_select') return { type: type, selected_conversation: it ? it.key : null };
          if (type === 'channels_select') return { type: type, selected_channel: it ? it.key : null };
          return { type: type, selected_option: it ? optionPayload(it.opt) : null };
        }
        function choose(it) { current = it; sel.value = it ? it.key : ''; }
        function fromState(st) {
          if (!st) return null;
          if (type === 'users_select') return findBy(function (i) { return i.key === st.selected_user; });
          if (type === 'conversations_select') return findBy(function (i) { return i.key === st.selected_conversation; });
          if (type === 'channels_select') return findBy(function (i) { return i.key === st.selected_channel; });
          var v = st.selected_option && st.selected_option.value;
          return v == null ? null : findBy(function (i) { return i.opt.value === v; });
        }
        var initial = null;
        if (type === 'users_select') initial = { selected_user: el.initial_user };
        else if (type === 'conversations_select') initial = { selected_conversation: el.initial_conversation };
        else if (type === 'channels_select') initial = { selected_channel: el.initial_channel };
        else initial = { selected_option: el.initial_option };
        choose(fromState(initial));
        sel.addEventListener('change', function () {
          current = findBy(function (i) { return i.key === sel.value; });
          if (current) {
            var st = stateOf(current);
            delete st.type;
            send(st, sel);
          }
        });
        register({ get: function () { return stateOf(current); }, set: function (st) { choose(fromState(st)); } });
        return sel;
      }

      case 'overflow': {
        var oflat = (el.options || []);
        var osel = h('select', { class: 'bk-overflow', title: 'More actions', 'aria-label': 'More actions' });
        osel.appendChild(h('option', { value: '' }, '\u22ef'));
        oflat.forEach(function (o, i) { osel.appendChild(h('option', { value: String(i) }, plainText(o.text))); });
        osel.value = '';
        osel.addEventListener('change', function () {
          var o = oflat[Number(osel.value)];
          osel.value = '';
          if (!o) return;
          if (!confirmOk(el.confirm)) return;
          if (o.url && typeof window !== 'undefined' && safeUrl(o.url)) window.open(o.url, '_blank', 'noopener');
          send({ selected_option: optionPayload(o) }, osel);
        });
        return osel;
      }

      case 'datepicker': case 'timepicker': {
        var isDate = type === 'datepicker';
        var inp = h('input', { type: isDate ? 'date' : 'time', class: 'bk-date' });
        inp.value = (isDate ? el.initial_date : el.initial_time) || '';
        var key = isDate ? 'selected_date' : 'selected_time';
        function dstate() { var o = { type: type }; o[key] = inp.value || null; return o; }
        inp.addEventListener('change', function () {
          if (!inp.value) return;
          var o = {}; o[key] = inp.value; send(o, inp);
        });
        register({ get: dstate, set: function (st) { inp.value = (st && st[key]) || ''; } });
        return inp;
      }

      case 'checkboxes': case 'radio_buttons': case 'multi_static_select': case 'multi_users_select': {
        var isRadio = type === 'radio_buttons';
        var choices; // [{key, labelObj, desc, opt}]
        if (type === 'multi_users_select') {
          choices = (ctx.users || []).filter(function (u) { return u.id !== ctx.botUserId; })
            .map(function (u) { return { key: u.id, labelObj: { type: 'plain_text', text: u.real_name || u.name || u.id } }; });
        } else {
          choices = flatOptions(el).map(function (f, i) {
            return { key: String(i), labelObj: f.opt.text, desc: f.opt.description, opt: f.opt, group: f.group };
          });
        }
        var box = h('div', { class: 'bk-choices' + (type.indexOf('multi_') === 0 ? ' bk-multi' : '') });
        var name = nextId('choice');
        var inputs = [];
        var lastG = null;
        choices.forEach(function (c) {
          if (c.group && c.group !== lastG) {
            lastG = c.group;
            box.appendChild(h('div', { class: 'bk-choice-group' }, plainText(c.group.label)));
          }
          var id = nextId('opt');
          var input = h('input', { type: isRadio ? 'radio' : 'checkbox', name: name, id: id, value: c.key });
          inputs.push({ input: input, choice: c });
          var lab = h('label', { class: 'bk-choice', for: id }, input,
            h('span', { class: 'bk-choice-text' }, textNode(c.labelObj, ctx),
              c.desc ? textNode(c.desc, ctx, 'bk-choice-desc', 'div') : null));
          box.appendChild(lab);
          input.addEventListener('change', function () {
            var st = cstate();
            delete st.type;
            send(st, box);
          });
        });
        function picked() { return inputs.filter(function (x) { return x.input.checked; }).map(function (x) { return x.choice; }); }
        function cstate() {
          var p = picked();
          if (type === 'multi_users_select') return { type: type, selected_users: p.map(function (c) { return c.key; }) };
          if (isRadio) return { type: type, selected_option: p.length ? optionPayload(p[0].opt) : null };
          return { type: type, selected_options: p.map(function (c) { return optionPayload(c.opt); }) };
        }
        function cset(st) {
          var want = {};
          if (!st) st = {};
          if (type === 'multi_users_select') (st.selected_users || []).forEach(function (u) { want[u] = 1; });
          else if (isRadio) { if (st.selected_option) want['v:' + st.selected_option.value] = 1; }
          else (st.selected_options || []).forEach(function (o) { want['v:' + o.value] = 1; });
          inputs.forEach(function (x) {
            var k = type === 'multi_users_select' ? x.choice.key : 'v:' + x.choice.opt.value;
            x.input.checked = !!want[k];
          });
        }
        if (type === 'multi_users_select') cset({ selected_users: el.initial_users || [] });
        else if (isRadio) cset({ selected_option: el.initial_option });
        else cset({ selected_options: el.initial_options || [] });
        if (!choices.length) box.appendChild(h('div', { class: 'bk-muted' }, 'No options'));
        register({ get: cstate, set: cset });
        return box;
      }

      case 'plain_text_input': case 'number_input': case 'email_text_input':
      case 'url_text_input': case 'rich_text_input': {
        var multiline = (type === 'plain_text_input' && el.multiline) || type === 'rich_text_input';
        var field;
        if (multiline) {
          field = h('textarea', { class: 'bk-text', rows: 4 });
        } else {
          var itype = { number_input: 'number', email_text_input: 'email', url_text_input: 'url' }[type] || 'text';
          field = h('input', { class: 'bk-text', type: itype });
          if (type === 'number_input') {
            field.setAttribute('step', el.is_decimal_allowed ? 'any' : '1');
            if (el.min_value != null) field.setAttribute('min', String(el.min_value));
            if (el.max_value != null) field.setAttribute('max', String(el.max_value));
          }
        }
        if (el.placeholder) field.setAttribute('placeholder', plainText(el.placeholder));
        if (el.max_length) field.setAttribute('maxlength', String(el.max_length));
        var init = el.initial_value;
        if (type === 'rich_text_input' && el.initial_value) {
          init = richInputText({ rich_text_value: el.initial_value });
        }
        field.value = init == null ? '' : String(init);
        if (el.focus_on_load) field.setAttribute('autofocus', '');
        function tstate() {
          var v = field.value;
          if (type === 'rich_text_input') {
            return {
              type: type,
              rich_text_value: { type: 'rich_text', elements: [{ type: 'rich_text_section', elements: v ? [{ type: 'text', text: v }] : [] }] }
            };
          }
          return { type: type, value: v === '' ? null : v };
        }
        if (!multiline) {
          field.addEventListener('keydown', function (ev) {
            if (ev.key === 'Enter' && dispatch) {
              ev.preventDefault();
              send({ value: field.value }, field);
            }
          });
        }
        register({
          get: tstate,
          set: function (st) {
            field.value = st ? (type === 'rich_text_input' ? richInputText(st) : (st.value == null ? '' : st.value)) : '';
          },
          validate: function () {
            var v = field.value;
            if (type === 'number_input') {
              if (field.validity && field.validity.badInput) return 'Please enter a number.';
              if (v === '') return null;
              var n = Number(v);
              if (!isFinite(n)) return 'Please enter a number.';
              if (!el.is_decimal_allowed && Math.floor(n) !== n) return 'Please enter a whole number.';
              if (el.min_value != null && n < Number(el.min_value)) return 'Please enter a number no less than ' + el.min_value + '.';
              if (el.max_value != null && n > Number(el.max_value)) return 'Please enter a number no greater than ' + el.max_value + '.';
            }
            if (v !== '' && el.min_length && v.length < el.min_length) {
              return 'Please enter at least ' + el.min_length + ' characters.';
            }
            if (el.max_length && v.length > el.max_length) {
              return 'Please enter no more than ' + el.max_length + ' characters.';
            }
            return null;
          }
        });
        return field;
      }

      case 'image':
        return null;

      default:
        return h('span', { class: 'bk-unsupported' }, '[' + (type || 'element') + ']');
    }
  }

  function richTextNodes(el, ctx) {
    var out = [];
    (el.elements || []).forEach(function (e) {
      var node;
      switch (e.type) {
        case 'text': node = doc().createTextNode(e.text || ''); break;
        case 'link': node = safeUrl(e.url || '')
          ? h('a', { href: e.url, target: '_blank', rel: 'noopener noreferrer' }, e.text || e.url)
          : doc().createTextNode(e.text || e.url || ''); break;
        case 'user': node = h('span', { class: 'mention' + (ctx.currentUser === e.user_id ? ' mention-me' : '') },
          '@' + (userName(e.user_id, ctx) || e.user_id)); break;
        case 'channel': node = h('a', { class: 'channel-link', href: '#', 'data-channel': e.channel_id },
          '#' + (channelName(e.channel_id, ctx) || e.channel_id)); break;
        case 'broadcast': node = h('span', { class: 'mention' }, '@' + (e.range || 'here')); break;
        case 'emoji': node = doc().createTextNode(e.unicode ? String.fromCodePoint.apply(null,
          e.unicode.split('-').map(function (x) { return parseInt(x, 16); })) : replaceEmoji(':' + e.name + ':')); break;
        case 'date': node = doc().createTextNode(e.fallback || new Date((e.timestamp || 0) * 1000).toLocaleString('en-GB')); break;
        default: node = doc().createTextNode(e.text || ''); break;
      }
      var st = e.style || {};
      if (st.code) node = h('code', null, node);
      if (st.bold) node = h('b', null, node);
      if (st.italic) node = h('i', null, node);
      if (st.strike) node = h('s', null, node);
      out.push(node);
    });
    return out;
  }

  function renderRichText(block, ctx) {
    var wrap = h('div', { class: 'bk-rich' });
    (block.elements || []).forEach(function (part) {
      switch (part.type) {
        case 'rich_text_section':
          wrap.appendChild(h('div', { class: 'bk-rich-section' }, richTextNodes(part, ctx)));
          break;
        case 'rich_text_list': {
          var ordered = part.style === 'ordered';
          var list = h(ordered ? 'ol' : 'ul', { class: 'bk-rich-list' });
          (part.elements || []).forEach(function (item) { list.appendChild(h('li', null, richTextNodes(item, ctx))); });
          if (part.indent) list.setAttribute('style', 'margin-left:' + (Number(part.indent) * 16) + 'px');
          wrap.appendChild(list);
          break;
        }
        case 'rich_text_quote':
          wrap.appendChild(h('blockquote', null, richTextNodes(part, ctx)));
          break;
        case 'rich_text_preformatted':
          wrap.appendChild(h('pre', null, richTextNodes(part, ctx)));
          break;
        default:
          wrap.appendChild(h('div', null, richTextNodes(part, ctx)));
      }
    });
    return wrap;
  }

  function renderBlock(block, index, ctx) {
    var bid = block.block_id || String(index);
    switch (block.type) {
      case 'header':
        return h('div', { class: 'bk-header' }, plainText(block.text));

      case 'divider':
        return h('hr', { class: 'bk-divider' });

      case 'section': {
        var main = h('div', { class: 'bk-section-main' });
        if (block.text) main.appendChild(textNode(block.text, ctx, 'bk-section-text', 'div'));
        if (block.fields && block.fields.length) {
          var grid = h('div', { class: 'bk-fields' });
          block.fields.forEach(function (f) { grid.appendChild(textNode(f, ctx, 'bk-field', 'div')); });
          main.appendChild(grid);
        }
        var sec = h('div', { class: 'bk-section' }, main);
        if (block.accessory && block.accessory.type !== 'image') {
          var acc = renderElement(block.accessory, bid, block.accessory.action_id || 'a0', ctx, { dispatch: true });
          if (acc) sec.appendChild(h('div', { class: 'bk-accessory' }, acc));
        }
        return sec;
      }

      case 'context': {
        var c = h('div', { class: 'bk-context' });
        (block.elements || []).forEach(function (e) {
          if (e.type === 'mrkdwn' || e.type === 'plain_text') c.appendChild(textNode(e, ctx, 'bk-context-item'));
        });
        return c;
      }

      case 'actions': {
        var row = h('div', { class: 'bk-actions' });
        (block.elements || []).forEach(function (e, j) {
          var node = renderElement(e, bid, e.action_id || ('a' + j), ctx, { dispatch: true });
          if (node) row.appendChild(node);
        });
        return row;
      }

      case 'input': {
        var el = block.element || {};
        var inputNode = renderElement(el, bid, el.action_id || 'a0', ctx, {
          dispatch: !!block.dispatch_action, inInput: true, optional: !!block.optional
        });
        var label = h('div', { class: 'bk-label' }, plainText(block.label),
          block.optional ? h('span', { class: 'bk-optional' }, ' (optional)') : null);
        var err = h('div', { class: 'bk-error', role: 'alert' });
        var wrap = h('div', { class: 'bk-input', 'data-block-id': bid }, label, inputNode,
          block.hint ? h('div', { class: 'bk-hint' }, plainText(block.hint)) : null, err);
        if (ctx.errorSlots) ctx.errorSlots[bid] = { wrap: wrap, slot: err };
        return wrap;
      }

      case 'rich_text':
        return renderRichText(block, ctx);

      case 'image': case 'video': case 'file':
        return null;

      default:
        return h('div', { class: 'bk-unsupported' }, '[unsupported block: ' + (block.type || '?') + ']');
    }
  }

  /**
   * Render a list of blocks to a <div class="blocks">.
   * ctx: {usersById, users, channelsById, conversations, currentUser, botUserId,
   *       onAction(action) -> Promise, registry: [], errorSlots: {}}
   */
  function renderBlocks(blocks, ctx) {
    ctx = ctx || {};
    if (!ctx.registry) ctx.registry = [];
    if (!ctx.errorSlots) ctx.errorSlots = {};
    var wrap = h('div', { class: 'blocks' });
    (blocks || []).forEach(function (b, i) {
      var node = renderBlock(b || {}, i, ctx);
      if (node) wrap.appendChild(h('div', { class: 'bk-block bk-block-' + (b && b.type) }, node));
    });
    return wrap;
  }

  /** Values for views.submit: {block_id: {action_id: state}} from every stateful element. */
  function collectValues(ctx) {
    var values = {};
    (ctx.registry || []).forEach(function (r) {
      (values[r.blockId] || (values[r.blockId] = {}))[r.actionId] = r.get();
    });
    return values;
  }

  function applyValues(ctx, values) {
    (ctx.registry || []).forEach(function (r) {
      var b = values && values[r.blockId];
      if (b && Object.prototype.hasOwnProperty.call(b, r.actionId) && b[r.actionId] &&
          b[r.actionId].type === r.type) {
        r.set(b[r.actionId]);
      }
    });
  }

  /** Slack-like client-side checks before submit: required fields, number/length limits. */
  function validateInputs(ctx) {
    var errors = {};
    (ctx.registry || []).forEach(function (r) {
      if (!r.inInput || errors[r.blockId]) return;
      var st = r.get();
      if (!r.optional && isEmptyState(st)) { errors[r.blockId] = 'Please complete this required field.'; return; }
      var msg = r.validate ? r.validate() : null;
      if (msg) errors[r.blockId] = msg;
    });
    return errors;
  }

  /** Show errors {block_id: msg} under input blocks; returns messages with no matching block. */
  function showErrors(ctx, errors) {
    var unmatched = [];
    var slots = ctx.errorSlots || {};
    Object.keys(slots).forEach(function (bid) {
      var msg = errors && errors[bid];
      slots[bid].slot.textContent = msg || '';
      if (slots[bid].wrap.classList) slots[bid].wrap.classList.toggle('has-error', !!msg);
    });
    if (errors) {
      Object.keys(errors).forEach(function (bid) { if (!slots[bid]) unmatched.push(errors[bid]); });
    }
    return unmatched;
  }

  // ---------------------------------------------------------------- messages

  function tsDate(ts) { return new Date(parseFloat(ts) * 1000); }

  function two(n) { return (n < 10 ? '0' : '') + n; }

  function timeLabel(ts) {
    var d = tsDate(ts);
    return isNaN(d) ? '' : two(d.getHours()) + ':' + two(d.getMinutes());
  }

  function dayKey(ts) {
    var d = tsDate(ts);
    return isNaN(d) ? '' : d.getFullYear() + '-' + two(d.getMonth() + 1) + '-' + two(d.getDate());
  }

  function dayLabel(ts, now) {
    var d = tsDate(ts);
    if (isNaN(d)) return '';
    now = now || new Date();
    var today = dayKey(now.getTime() / 1000);
    var y = new Date(now.getTime() - 86400000);
    var k = dayKey(ts);
    if (k === today) return 'Today';
    if (k === dayKey(y.getTime() / 1000)) return 'Yesterday';
    return d.toLocaleDateString('en-GB', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
  }

  function initials(name) {
    var parts = String(name || '?').trim().split(/\s+/);
    var s = parts[0].charAt(0) + (parts.length > 1 ? parts[parts.length - 1].charAt(0) : '');
    return s.toUpperCase() || '?';
  }

  function colourFor(id) {
    var hsh = 0;
    id = String(id || '');
    for (var i = 0; i < id.length; i++) hsh = (hsh * 31 + id.charCodeAt(i)) % 360;
    return 'hsl(' + hsh + ', 42%, 46%)';
  }

  /**
   * Render a conversation's messages. ctx as for renderBlocks plus
   * onMessageAction(message, action) -> Promise.
   */
  function renderMessages(messages, ctx) {
    var list = h('div', { class: 'messages' });
    var prev = null, prevDay = null;
    var now = ctx.now || new Date();
    (messages || []).forEach(function (m) {
      // The local workspace numbers messages with counter timestamps; only show
      // clock times and day dividers when a ts looks like a real, recent time.
      var real = Math.abs(parseFloat(m.ts) * 1000 - now.getTime()) < 7 * 86400000;
      var dk = real ? dayKey(m.ts) : null;
      if (real && dk !== prevDay) {
        list.appendChild(h('div', { class: 'day-divider' }, h('span', null, dayLabel(m.ts, now))));
        prevDay = dk;
        prev = null;
      }
      var isBot = m.user === ctx.botUserId;
      var isReply = !!(m.thread_ts && m.thread_ts !== m.ts);
      var continued = prev && prev.user === m.user && !!prev.ephemeral === !!m.ephemeral &&
        (parseFloat(m.ts) - parseFloat(prev.ts)) < 300 && !isReply;
      var name = m.user_name || userName(m.user, ctx) || (isBot ? 'Practice Bot' : m.user || 'Unknown');
      var mctx = Object.create(ctx);
      mctx.registry = [];
      mctx.errorSlots = {};
      mctx.onAction = function (action) { return ctx.onMessageAction ? ctx.onMessageAction(m, action) : null; };
      var content;
      if (m.blocks && m.blocks.length) content = renderBlocks(m.blocks, mctx);
      else content = h('div', { class: 'mrkdwn msg-text', html: mrkdwn(m.text, ctx) });
      var meta = h('div', { class: 'msg-meta' },
        h('span', { class: 'msg-author' }, name),
        isBot ? h('span', { class: 'app-badge' }, 'APP') : null,
        real ? h('span', { class: 'msg-time', title: tsDate(m.ts).toLocaleString('en-GB') }, timeLabel(m.ts)) : null,
        m.ephemeral ? h('span', { class: 'msg-eph' }, 'Only visible to you') : null,
        isReply ? h('span', { class: 'msg-thread' }, 'reply in thread') : null);
      var avatar = h('div', { class: 'avatar' + (isBot ? ' bot' : ''), 'aria-hidden': 'true' },
        isBot ? 'PB' : initials(name));
      avatar.setAttribute('style', 'background:' + (isBot ? '#2f6f5e' : colourFor(m.user)));
      var body = h('div', { class: 'msg-body' }, continued ? null : meta, content,
        m.edited ? h('span', { class: 'msg-edited' }, '(edited)') : null);
      var row = h('div', {
        class: 'msg' + (m.ephemeral ? ' ephemeral' : '') + (isReply ? ' reply' : '') + (continued ? ' continued' : ''),
        'data-ts': m.ts
      }, continued ? h('div', { class: 'avatar-space' }, real ? timeLabel(m.ts) : '') : avatar, body);
      list.appendChild(row);
      prev = m;
    });
    return list;
  }

  var PB = {
    escapeHtml: escapeHtml, mrkdwn: mrkdwn, plainText: plainText, replaceEmoji: replaceEmoji,
    renderBlocks: renderBlocks, renderMessages: renderMessages, collectValues: collectValues,
    applyValues: applyValues, validateInputs: validateInputs, showErrors: showErrors, h: h
  };

  if (typeof module === 'object' && module.exports) module.exports = PB;
  if (typeof window === 'undefined' || typeof window.fetch !== 'function' || !window.document) return;
  window.PB = PB;

  // ================================================================ the app

  var S = {
    team: null, botUserId: null, users: [], usersById: {},
    user: null, convs: [], convsJson: null, channelsById: {},
    selected: null,          // 'home' or a conversation id
    version: null,
    paneKey: null,           // JSON of what the pane shows, to skip needless re-renders
    modal: null,             // {view, json, ctx, overlay, serverErrorsJson}
    history: [], histPos: -1
  };

  var $ = function (id) { return document.getElementById(id); };

  // ---------------------------------------------------------------- api

  function api(method, path, body) {
    var init = { method: method, cache: 'no-store', headers: {} };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (res) {
      return res.text().then(function (txt) {
        var data = null;
        try { data = txt ? JSON.parse(txt) : {}; } catch (e) { data = null; }
        if (!res.ok) {
          var msg = (data && (data.error || data.message)) || (res.status + ' ' + res.statusText);
          throw new Error(msg);
        }
        if (data === null) throw new Error('Bad response from ' + path);
        return data;
      });
    });
  }

  function post(path, body, what) {
    return api('POST', path, body).then(function (data) {
      if (data && data.ok === false && !(data.errors && Object.keys(data.errors).length)) {
        status((what ? what + ': ' : '') + (data.error || 'failed'), 'error');
      }
      wake();
      return data;
    }, function (err) {
      status((what ? what + ': ' : '') + err.message, 'error');
      wake();
      throw err;
    });
  }

  // ---------------------------------------------------------------- status line

  var statusTimer = null;
  function status(msg, kind) {
    var el = $('status');
    clearTimeout(statusTimer);
    el.className = 'status' + (msg ? ' show ' + (kind || 'info') : '');
    el.textContent = '';
    if (!msg) return;
    el.appendChild(h('span', { class: 'status-text' }, msg));
    el.appendChild(h('button', { type: 'button', class: 'status-x', 'aria-label': 'Dismiss', onclick: function () { status(''); } }, '\u00d7'));
    el.dataset.kind = kind || 'info';
    if (kind !== 'error' && kind !== 'conn') statusTimer = setTimeout(function () { status(''); }, 4000);
  }

  // ---------------------------------------------------------------- render ctx

  function baseCtx() {
    return {
      users: S.users, usersById: S.usersById, channelsById: S.channelsById,
      conversations: S.convs, currentUser: S.user, botUserId: S.botUserId
    };
  }

  function imChannel() {
    for (var i = 0; i < S.convs.length; i++) if (S.convs[i].kind === 'im') return S.convs[i];
    return null;
  }

  // ---------------------------------------------------------------- users

  function renderUserSelect() {
    var sel = $('user-select');
    sel.textContent = '';
    sel.appendChild(h('option', { value: '', disabled: true }, 'Choose who you are\u2026'));
    S.users.filter(function (u) { return u.id !== S.botUserId; }).forEach(function (u) {
      var label = (u.real_name || u.name || u.id) + (u.title ? ' \u2014 ' + u.title : '');
      sel.appendChild(h('option', { value: u.id }, label));
    });
    sel.value = S.user || '';
  }

  function setUser(id, fromUrl) {
    if (id && !S.usersById[id]) { status('Unknown user ' + id, 'error'); id = null; }
    S.user = id || null;
    S.convs = []; S.convsJson = null; S.selected = null; S.paneKey = null;
    closeModalDom();
    $('user-select').value = S.user || '';
    if (S.user) {
      try { localStorage.setItem('pb.user', S.user); } catch (e) { /* private mode */ }
      var url = new URL(window.location.href);
      if (!fromUrl && url.searchParams.has('user')) {
        url.searchParams.set('user', S.user);
        history.replaceState(null, '', url.toString());
      }
    }
    renderSidebar();
    renderPaneHeader();
    if (!S.user) { renderEmpty(); return Promise.resolve(); }
    $('pane').textContent = '';
    return loadConversations().then(function () {
      var saved = null;
      try { saved = localStorage.getItem('pb.conv.' + S.user); } catch (e) { /* ignore */ }
      var target = saved === 'home' || (saved && S.channelsById[saved]) ? saved : (imChannel() ? imChannel().id : 'home');
      return select(target);
    }).then(loadModal);
  }

  // ---------------------------------------------------------------- sidebar

  function loadConversations() {
    var user = S.user;
    return api('GET', '/_local/conversations?user=' + encodeURIComponent(user)).then(function (data) {
      if (user !== S.user) return;
      var convs = data.conversations || [];
      var json = JSON.stringify(convs);
      if (json === S.convsJson) return;
      S.convsJson = json;
      S.convs = convs;
      S.channelsById = {};
      convs.forEach(function (c) { S.channelsById[c.id] = c; });
      renderSidebar();
      renderPaneHeader();
    });
  }

  function navItem(key, icon, label, extraClass) {
    var active = S.selected === key;
    return h('button', {
      type: 'button', class: 'nav-item' + (active ? ' active' : '') + (extraClass ? ' ' + extraClass : ''),
      'aria-current': active ? 'page' : null,
      onclick: function () { select(key); }
    }, h('span', { class: 'nav-icon', 'aria-hidden': 'true' }, icon), h('span', { class: 'nav-label' }, label));
  }

  function renderSidebar() {
    var nav = $('conv-list');
    nav.textContent = '';
    if (!S.user) return;
    nav.appendChild(h('div', { class: 'nav-heading' }, 'Practice Bot'));
    nav.appendChild(navItem('home', '\u2302', 'Home'));
    var ims = S.convs.filter(function (c) { return c.kind === 'im'; });
    ims.forEach(function (c) { nav.appendChild(navItem(c.id, '\u25cf', c.name || 'Practice Bot', 'im')); });
    var chans = S.convs.filter(function (c) { return c.kind !== 'im'; }).sort(function (a, b) {
      return String(a.name).localeCompare(String(b.name));
    });
    nav.appendChild(h('div', { class: 'nav-heading' }, 'Channels'));
    if (!chans.length) nav.appendChild(h('div', { class: 'nav-empty' }, 'Not in any team channels'));
    chans.forEach(function (c) { nav.appendChild(navItem(c.id, '#', String(c.name).replace(/^#/, ''))); });
  }

  function renderPaneHeader() {
    var title = $('pane-title'), sub = $('pane-sub');
    var c = S.selected && S.selected !== 'home' ? S.channelsById[S.selected] : null;
    if (!S.user) { title.textContent = 'Practice Bot'; sub.textContent = 'Local workspace'; }
    else if (S.selected === 'home') { title.textContent = 'Home'; sub.textContent = 'Practice Bot\u2019s App Home'; }
    else if (c && c.kind === 'im') { title.textContent = c.name || 'Practice Bot'; sub.textContent = 'Direct message \u2014 talk to the bot here, or use /commands'; }
    else if (c) { title.textContent = '#' + String(c.name).replace(/^#/, ''); sub.textContent = 'Team channel'; }
    else { title.textContent = ''; sub.textContent = ''; }
    var input = $('composer-input');
    input.disabled = !S.user;
    if (!S.user) input.placeholder = 'Pick who you are first';
    else if (S.selected === 'home') input.placeholder = 'Type a /command (a message goes to your DM with Practice Bot)';
    else if (c && c.kind === 'im') input.placeholder = 'Message Practice Bot, or type /caseload';
    else if (c) input.placeholder = 'Message #' + String(c.name).replace(/^#/, '') + ' \u2014 start with / for a command';
  }

  function select(key) {
    if (!S.user || !key) return Promise.resolve();
    var changed = S.selected !== key;
    S.selected = key;
    if (changed) S.paneKey = null;
    try { localStorage.setItem('pb.conv.' + S.user, key); } catch (e) { /* ignore */ }
    renderSidebar();
    renderPaneHeader();
    if (changed) $('pane').textContent = '';
    if (key === 'home') post('/_local/home_opened', { user: S.user }, 'Opening Home').catch(function () {});
    return loadPane(true);
  }

  // ---------------------------------------------------------------- pane

  function renderEmpty() {
    var pane = $('pane');
    pane.textContent = '';
    pane.appendChild(h('div', { class: 'empty' },
      h('div', { class: 'empty-mark', 'aria-hidden': 'true' }, 'PB'),
      h('h2', null, 'Pick who you are, then try ', h('code', null, '/caseload')),
      h('p', null, 'Choose a member of staff from the list at the top left. You\u2019ll see their Home tab, ' +
        'their direct messages with Practice Bot and the team channels they belong to.')));
  }

  function nearBottom(el) { return el.scrollHeight - el.scrollTop - el.clientHeight < 80; }

  function loadPane(scrollToEnd) {
    var user = S.user, key = S.selected;
    if (!user || !key) return Promise.resolve();
    if (key === 'home') {
      return api('GET', '/_local/home?user=' + encodeURIComponent(user)).then(function (data) {
        if (user !== S.user || key !== S.selected) return;
        var json = 'home:' + JSON.stringify(data.view || null);
        if (json === S.paneKey) return;
        S.paneKey = json;
        var pane = $('pane');
        var top = pane.scrollTop;
        pane.textContent = '';
        if (!data.view) {
          pane.appendChild(h('div', { class: 'empty' },
            h('h2', null, 'Nothing on Home yet'),
            h('p', null, 'Practice Bot hasn\u2019t published a Home tab for you. It usually does when you open this tab.')));
          return;
        }
        var view = data.view;
        var ctx = baseCtx();
        ctx.onAction = function (action) {
          return post('/_local/action', { user: S.user, channel: null, message_ts: null, view_id: view.id, action: action }, 'Action');
        };
        pane.appendChild(h('div', { class: 'home-view' }, renderBlocks(view.blocks || [], ctx)));
        pane.scrollTop = top;
      });
    }
    return api('GET', '/_local/messages?user=' + encodeURIComponent(user) + '&channel=' + encodeURIComponent(key))
      .then(function (data) {
        if (user !== S.user || key !== S.selected) return;
        var msgs = data.messages || [];
        var dropped = data.dropped || 0;
        var json = 'msgs:' + key + ':' + dropped + ':' + JSON.stringify(msgs);
        if (json === S.paneKey) return;
        S.paneKey = json;
        var pane = $('pane');
        var stick = scrollToEnd || S.stickNext || nearBottom(pane);
        S.stickNext = false;
        var top = pane.scrollTop;
        pane.textContent = '';
        if (!msgs.length && !dropped) {
          var c = S.channelsById[key];
          var isIm = c && c.kind === 'im';
          pane.appendChild(h('div', { class: 'empty' },
            h('h2', null, isIm ? 'This is the start of your conversation with Practice Bot' :
              'No messages in #' + String(c ? c.name : key).replace(/^#/, '') + ' yet'),
            h('p', null, 'Try ', h('code', null, '/caseload'), isIm ? ', or just say hello.' : ' here.')));
          return;
        }
        var ctx = baseCtx();
        ctx.onMessageAction = function (m, action) {
          return post('/_local/action', { user: S.user, channel: key, message_ts: m.ts, view_id: null, action: action }, 'Action');
        };
        if (dropped) {
          // The workspace keeps only the latest messages in memory (the local log has them all).
          pane.appendChild(h('div', { class: 'dropped' }, dropped + ' earlier message' +
            (dropped === 1 ? ' is' : 's are') + ' no longer kept here.'));
        }
        pane.appendChild(renderMessages(msgs, ctx));
        pane.scrollTop = stick ? pane.scrollHeight : top;
      });
  }

  // ---------------------------------------------------------------- modal

  function closeModalDom() {
    if (S.modal && S.modal.overlay && S.modal.overlay.parentNode) S.modal.overlay.parentNode.removeChild(S.modal.overlay);
    S.modal = null;
    document.body.classList.remove('modal-open');
  }

  function setModalErrors(errors) {
    var m = S.modal;
    if (!m) return;
    var unmatched = showErrors(m.ctx, errors || {});
    m.general.textContent = unmatched.join(' ');
    m.general.hidden = !unmatched.length;
    var first = m.overlay.querySelector('.has-error');
    if (first && first.scrollIntoView) first.scrollIntoView({ block: 'nearest' });
  }

  function renderModal(view, errors, keepState) {
    var old = S.modal;
    var saved = keepState && old ? PB.collectValues(old.ctx) : null;
    var scroll = keepState && old ? old.body.scrollTop : 0;
    closeModalDom();

    var ctx = baseCtx();
    ctx.registry = [];
    ctx.errorSlots = {};
    ctx.onAction = function (action) {
      return post('/_local/action', { user: S.user, channel: null, message_ts: null, view_id: view.id, action: action }, 'Action');
    };
    var general = h('div', { class: 'modal-general-error', role: 'alert', hidden: true });
    var body = h('div', { class: 'modal-body' }, general, renderBlocks(view.blocks || [], ctx));
    var submitBtn = view.submit ? h('button', { type: 'submit', class: 'bk-btn primary' }, plainText(view.submit)) : null;
    var cancelBtn = h('button', { type: 'button', class: 'bk-btn', onclick: cancelModal },
      view.close ? plainText(view.close) : (view.submit ? 'Cancel' : 'Close'));
    var form = h('form', { class: 'modal', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'modal-title', novalidate: true },
      h('header', { class: 'modal-head' },
        h('h2', { id: 'modal-title' }, plainText(view.title) || 'Practice Bot'),
        h('button', { type: 'button', class: 'modal-x', 'aria-label': 'Close', onclick: cancelModal }, '\u00d7')),
      body,
      h('footer', { class: 'modal-foot' }, cancelBtn, submitBtn));
    form.addEventListener('submit', function (ev) { ev.preventDefault(); submitModal(); });
    form.addEventListener('keydown', function (ev) {
      if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey) && view.submit) { ev.preventDefault(); submitModal(); }
    });
    var overlay = h('div', { class: 'modal-overlay' }, form);
    $('modal-root').appendChild(overlay);
    document.body.classList.add('modal-open');
    S.modal = { view: view, json: JSON.stringify(view), ctx: ctx, overlay: overlay, body: body,
      general: general, submitBtn: submitBtn, serverErrorsJson: JSON.stringify(errors || null) };
    if (saved) PB.applyValues(ctx, saved);
    body.scrollTop = scroll;
    if (errors) setModalErrors(errors);
    if (!keepState) {
      var f = overlay.querySelector('[autofocus]') || overlay.querySelector('input, textarea, select');
      if (f) f.focus();
    }
  }

  function loadModal() {
    var user = S.user;
    if (!user) return Promise.resolve();
    return api('GET', '/_local/modal?user=' + encodeURIComponent(user)).then(function (data) {
      if (user !== S.user) return;
      var view = data.view;
      if (!view) { if (S.modal) closeModalDom(); return; }
      var json = JSON.stringify(view);
      var ej = JSON.stringify(data.errors || null);
      if (S.modal && S.modal.view.id === view.id) {
        if (S.modal.json !== json) renderModal(view, data.errors, true);
        else if (S.modal.serverErrorsJson !== ej) {
          S.modal.serverErrorsJson = ej;
          if (data.errors) setModalErrors(data.errors);
        }
        return;
      }
      renderModal(view, data.errors, false);
    });
  }

  function submitModal() {
    var m = S.modal;
    if (!m || !m.view.submit || m.submitting) return;
    var clientErrors = PB.validateInputs(m.ctx);
    if (Object.keys(clientErrors).length) { setModalErrors(clientErrors); return; }
    setModalErrors({});
    m.submitting = true;
    if (m.submitBtn) m.submitBtn.disabled = true;
    post('/_local/submit', { user: S.user, view_id: m.view.id, values: PB.collectValues(m.ctx) }, 'Submit')
      .then(function (data) {
        if (S.modal !== m) return;
        if (data.errors && Object.keys(data.errors).length) {
          setModalErrors(data.errors);
          m.serverErrorsJson = JSON.stringify(data.errors);
          return;
        }
        if (data.ok === false) return;  // status line already shows why; keep the modal
        return loadModal();
      })
      .catch(function () { /* status line shows it */ })
      .then(function () {
        m.submitting = false;
        if (m.submitBtn) m.submitBtn.disabled = false;
      });
  }

  function cancelModal() {
    var m = S.modal;
    if (!m) return;
    post('/_local/close', { user: S.user, view_id: m.view.id }, 'Close')
      .then(function (data) {
        if (data.ok === false) return;
        if (S.modal === m) closeModalDom();
        return loadModal();
      })
      .catch(function () { /* status line shows it */ });
  }

  // ---------------------------------------------------------------- composer

  function autosize() {
    var t = $('composer-input');
    t.style.height = 'auto';
    t.style.height = Math.min(t.scrollHeight, 200) + 'px';
  }

  function send() {
    var input = $('composer-input');
    var text = input.value.trim();
    if (!text || !S.user) return;
    var im = imChannel();
    var channel = S.selected === 'home' ? (im && im.id) : S.selected;
    if (!channel) { status('No conversation to send to', 'error'); return; }
    input.value = '';
    autosize();
    S.history.push(text);
    S.histPos = -1;
    var isCmd = text.charAt(0) === '/';
    var restore = function () { if (!input.value) { input.value = text; autosize(); } };
    if (!isCmd && S.selected === 'home') select(channel);
    post(isCmd ? '/_local/command' : '/_local/message', { user: S.user, channel: channel, text: text },
      isCmd ? text.split(/\s/)[0] : 'Message')
      .then(function (data) {
        if (data.ok === false) restore();
        else S.stickNext = true;
      }, restore);
  }

  function composerKeys(ev) {
    var input = $('composer-input');
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); send(); return; }
    if ((ev.key === 'ArrowUp' || ev.key === 'ArrowDown') && S.history.length &&
        (input.value === '' || S.histPos >= 0) && input.value.indexOf('\n') < 0) {
      ev.preventDefault();
      if (ev.key === 'ArrowUp') S.histPos = S.histPos < 0 ? S.history.length - 1 : Math.max(0, S.histPos - 1);
      else S.histPos = S.histPos < 0 ? -1 : S.histPos + 1;
      if (S.histPos >= S.history.length) S.histPos = -1;
      input.value = S.histPos < 0 ? '' : S.history[S.histPos];
      autosize();
    }
  }

  // ---------------------------------------------------------------- polling

  var wakeFn = null;
  function wake() { if (wakeFn) wakeFn(); }
  function sleep(ms) {
    return new Promise(function (resolve) {
      var t = setTimeout(done, ms);
      function done() { clearTimeout(t); wakeFn = null; resolve(); }
      wakeFn = done;
    });
  }

  var refreshing = null, refreshAgain = false;
  function refreshAll() {
    if (refreshing) { refreshAgain = true; return refreshing; }
    refreshing = Promise.all([
      loadConversations().then(function () {
        if (S.user && S.selected && S.selected !== 'home' && !S.channelsById[S.selected]) {
          var im = imChannel();
          return select(im ? im.id : 'home');
        }
        return loadPane(false);
      }),
      loadModal()
    ]).catch(function (err) { status(err.message, 'error'); }).then(function () {
      refreshing = null;
      if (refreshAgain) { refreshAgain = false; return refreshAll(); }
    });
    return refreshing;
  }

  var connLost = false;
  function pollLoop() {
    api('GET', '/_local/version').then(function (data) {
      if (connLost) { connLost = false; status(''); }
      if (data.version !== S.version) {
        S.version = data.version;
        return refreshAll();
      }
    }, function () {
      if (!connLost) { connLost = true; status('Can\u2019t reach the local workspace server \u2014 retrying\u2026', 'conn'); }
    }).then(function () { return sleep(700); }).then(pollLoop);
  }

  // ---------------------------------------------------------------- boot

  function boot() {
    $('user-select').addEventListener('change', function (ev) { setUser(ev.target.value, false); });
    $('composer').addEventListener('submit', function (ev) { ev.preventDefault(); send(); });
    $('composer-input').addEventListener('keydown', composerKeys);
    $('composer-input').addEventListener('input', autosize);
    document.addEventListener('keydown', function (ev) {
      if (ev.key === 'Escape' && S.modal) { ev.preventDefault(); cancelModal(); }
    });
    document.addEventListener('click', function (ev) {
      var a = ev.target.closest && ev.target.closest('a.channel-link');
      if (!a) return;
      ev.preventDefault();
      var id = a.getAttribute('data-channel');
      if (S.channelsById[id]) select(id);
      else status('You\u2019re not a member of that channel', 'info');
    });
    renderEmpty();
    renderPaneHeader();

    api('GET', '/_local/state').then(function (st) {
      S.team = st.team || null;
      S.botUserId = st.bot_user_id || null;
      S.users = st.users || [];
      S.usersById = {};
      S.users.forEach(function (u) { S.usersById[u.id] = u; });
      S.version = st.version;
      if (S.team && S.team.name) { $('team-name').textContent = S.team.name; document.title = S.team.name + ' \u2014 Practice Bot'; }
      renderUserSelect();
      var fromUrl = new URL(window.location.href).searchParams.get('user');
      var saved = null;
      try { saved = localStorage.getItem('pb.user'); } catch (e) { /* ignore */ }
      var pick = fromUrl && S.usersById[fromUrl] ? fromUrl : (saved && S.usersById[saved] ? saved : null);
      if (fromUrl && !S.usersById[fromUrl]) status('Unknown user ' + fromUrl + ' in the address', 'error');
      return pick ? setUser(pick, !!fromUrl) : null;
    }).catch(function (err) {
      status('Could not load the workspace: ' + err.message, 'error');
    }).then(pollLoop);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
