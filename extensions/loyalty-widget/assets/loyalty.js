/*
 * The loyalty widget for Online Store themes (the app block and the app embed's launcher).
 *
 * Plain JavaScript, no build step and no dependency. It talks to the app through the shop's
 * app proxy only (/apps/loyalty/..., same origin: Shopify signs each request and adds the
 * signed-in customer), builds its markup with DOM calls and text nodes (nothing from the API
 * is parsed as HTML), and takes every word from the strings the Liquid rendered in the
 * visitor's language.
 *
 * Every redemption carries an Idempotency-Key made once per intent (the confirmed reward, its
 * points and variant): a retry after a network error, a reply lost on the way, or a double
 * click sends the same key again, so the points are spent once.
 */
(function () {
  'use strict';

  if (window.LoyaltyWidget) {
    return; // the block and the embed both load this file
  }

  const REF_PARAM = 'loyalty_ref';
  const REF_STORAGE = 'loyalty_ref';
  const REF_CODE = /^[A-Za-z0-9]{4,32}$/;
  // Retries of one redemption after a network error, a 5xx or "still in progress".
  const REDEEM_RETRIES = 2;
  const RETRY_DELAY_MS = 400;
  // A new code is made in Shopify by the app's worker, usually within seconds.
  const ACTIVATION_CHECKS = 6;
  const ACTIVATION_DELAY_MS = 1500;
  const COPIED_FOR_MS = 2000;
  const NETWORKS = {
    facebook: 'Facebook', instagram: 'Instagram', tiktok: 'TikTok', twitter: 'X', x: 'X',
    pinterest: 'Pinterest', youtube: 'YouTube',
  };
  const FOLLOW_FLAGS = {
    facebook: 'rewardedForFacebook', instagram: 'rewardedForInstagram', tiktok: 'rewardedForTiktok',
    twitter: 'rewardedForTwitter', x: 'rewardedForTwitter', pinterest: 'rewardedForPinterest',
    youtube: 'rewardedForYoutube',
  };
  const SHARE_FLAGS = { facebook: 'rewardedForSharingOnFacebook', x: 'rewardedForSharingOnX' };

  // ---------------------------------------------------------------- DOM and words

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) {
        continue;
      }
      if (name === 'class') {
        node.className = value;
      } else if (name.startsWith('on')) {
        node.addEventListener(name.slice(2), value);
      } else {
        node.setAttribute(name, value === true ? '' : String(value));
      }
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined && child !== false) {
        node.append(child instanceof Node ? child : document.createTextNode(String(child)));
      }
    }
    return node;
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  // Shopify escapes translations for HTML; the script writes text, so it reads them back.
  function decoded(text) {
    if (!text.includes('&')) {
      return text;
    }
    return new DOMParser().parseFromString(text, 'text/html').documentElement.textContent;
  }

  function makeI18n(config) {
    const strings = {};
    for (const [key, value] of Object.entries(config.strings || {})) {
      strings[key] = decoded(String(value));
    }
    const locale = config.locale || document.documentElement.lang || 'en';
    const plural = new Intl.PluralRules(locale);
    const number = new Intl.NumberFormat(locale);
    const money = config.currency
      ? new Intl.NumberFormat(locale, { style: 'currency', currency: config.currency })
      : number;
    const day = new Intl.DateTimeFormat(locale, { dateStyle: 'long' });
    const birthday = new Intl.DateTimeFormat(locale, { month: 'long', day: 'numeric', timeZone: 'UTC' });

    function t(key, values) {
      const text = key in strings ? strings[key] : key;
      return text.replace(/\{(\w+)\}/g, (whole, name) =>
        values && name in values ? String(values[name]) : whole);
    }
    function counted(base, n) {
      const form = plural.select(n) === 'one' ? 'one' : 'other';
      return t(base + '_' + form, { count: number.format(n) });
    }
    return {
      t,
      has: (key) => key in strings,
      points: (n) => counted('points', n),
      orders: (n) => counted('orders', n),
      number: (n) => number.format(n),
      money: (n) => money.format(Number(n)),
      date: (iso) => day.format(new Date(iso)),
      // A date of birth has no time zone: read and shown in UTC, it stays on its day.
      birthday: (isoDate) => birthday.format(new Date(isoDate + 'T00:00:00Z')),
    };
  }

  function errorText(i18n, error) {
    const key = 'error_' + error.code;
    if (i18n.has(key)) {
      return i18n.t(key);
    }
    return error.message || i18n.t('error_generic');
  }

  function newKey() {
    if (window.crypto && typeof window.crypto.randomUUID === 'function') {
      return window.crypto.randomUUID();
    }
    const bytes = window.crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  // ---------------------------------------------------------------- the app proxy

  class ApiError extends Error {
    constructor(code, message, status) {
      super(message);
      this.code = code;
      this.status = status;
    }
  }

  function makeApi(base) {
    async function call(method, path, body, headers) {
      const sent = { Accept: 'application/json', ...(headers || {}) };
      if (body !== undefined) {
        sent['Content-Type'] = 'application/json';
      }
      let response;
      try {
        response = await fetch(base + path, {
          method, headers: sent, credentials: 'same-origin',
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch {
        throw new ApiError('network', '', 0);
      }
      let data = null;
      try {
        data = await response.json();
      } catch {
        data = null; // not the app's answer (a shop's password page, a proxy error)
      }
      if (!response.ok || data === null) {
        const code = (data && data.code) || (response.status === 429 ? 'too_many_requests' : 'http');
        throw new ApiError(code, (data && data.message) || '', response.status);
      }
      return data;
    }
    return {
      get: (path) => call('GET', path),
      post: (path, body, headers) => call('POST', path, body, headers),
    };
  }

  async function redeem(api, intent) {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await api.post('/cp/api/redeem-points', intent.body, { 'Idempotency-Key': intent.key });
      } catch (error) {
        const again = error.code === 'network' || error.code === 'request_in_progress' ||
          error.status >= 500;
        if (!again || attempt >= REDEEM_RETRIES) {
          throw error;
        }
        await sleep(RETRY_DELAY_MS * 2 ** attempt);
      }
    }
  }

  // ---------------------------------------------------------------- shared pieces

  function announce(widget, text, isError) {
    widget.live.textContent = '';
    widget.live.className = 'loyalty-widget__message' + (isError ? ' loyalty-widget__message--error' : '');
    widget.live.textContent = text;
  }

  function copyButton(widget, text, target) {
    const { i18n } = widget;
    const button = el('button', {
      type: 'button', class: 'loyalty-widget__copy', 'aria-label': i18n.t('copy_label', { text }),
    }, i18n.t('copy'));
    button.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(text);
      } catch {
        const range = document.createRange();
        range.selectNodeContents(target);
        window.getSelection().removeAllRanges();
        window.getSelection().addRange(range);
        announce(widget, i18n.t('copy_failed'), true);
        return;
      }
      button.textContent = i18n.t('copied');
      announce(widget, i18n.t('copied'));
      setTimeout(() => { button.textContent = i18n.t('copy'); }, COPIED_FOR_MS);
    });
    return button;
  }

  function codeLine(widget, code) {
    const value = el('code', { class: 'loyalty-widget__code' }, code);
    return el('p', { class: 'loyalty-widget__code-line' }, value, copyButton(widget, code, value),
      el('a', { class: 'loyalty-widget__link', href: '/discount/' + encodeURIComponent(code) + '?redirect=%2Fcart' },
        widget.i18n.t('apply')));
  }

  function section(title, className) {
    return el('section', { class: 'loyalty-widget__section ' + className },
      el('h3', { class: 'loyalty-widget__heading' }, title));
  }

  // ---------------------------------------------------------------- balance and tier

  function renderBalance(widget) {
    const { i18n, info } = widget;
    const box = el('div', { class: 'loyalty-widget__balance' },
      el('p', { class: 'loyalty-widget__label' }, i18n.t('balance_label')),
      el('p', { class: 'loyalty-widget__points', 'data-loyalty-balance': info.availablePoints },
        i18n.points(info.availablePoints)));
    if (info.pendingPoints > 0) {
      box.append(el('p', { class: 'loyalty-widget__muted' },
        i18n.t('pending', { points: i18n.points(info.pendingPoints) })));
    }
    const expiring = info.pointsExpiringNext;
    if (expiring && expiring.points > 0) {
      box.append(el('p', { class: 'loyalty-widget__muted' },
        i18n.t('expiring', { points: i18n.points(expiring.points), date: i18n.date(expiring.at) })));
    }
    if (widget.sections.has('tier') && info.tierProgress) {
      box.append(renderTier(widget));
    }
    widget.parts.balance.replaceChildren(box);
  }

  function renderTier(widget) {
    const { i18n, info, tiers } = widget;
    const progress = info.tierProgress;
    const held = tiers.find((tier) => tier.name === info.currentVipTier);
    const next = tiers.find((tier) => tier.id === progress.nextTierId);
    const box = el('div', { class: 'loyalty-widget__tier' },
      el('p', null, info.currentVipTier ? i18n.t('tier_current', { tier: info.currentVipTier })
        : i18n.t('tier_none')));
    if (held && held.perks) {
      box.append(el('p', { class: 'loyalty-widget__muted' }, held.perks));
    }
    if (next) {
      const needed = progress.neededForNext;
      const words = {
        SPENT: () => i18n.t('tier_next_spent', { amount: i18n.money(needed), tier: next.name }),
        POINTS_EARNED: () => i18n.t('tier_next_points', { points: i18n.points(needed), tier: next.name }),
        ORDERS: () => i18n.t('tier_next_orders', { orders: i18n.orders(needed), tier: next.name }),
      }[progress.metric];
      box.append(
        el('progress', {
          class: 'loyalty-widget__progress', max: next.threshold,
          value: Math.min(progress.current, next.threshold),
          'aria-label': i18n.t('progress_label', { tier: next.name }),
        }),
        el('p', null, words ? words() : ''));
    } else if (info.currentVipTier) {
      box.append(el('p', null, i18n.t('tier_top')));
    }
    if (info.vipTierExpiredAt) {
      box.append(el('p', { class: 'loyalty-widget__muted' },
        i18n.t('tier_held_until', { date: i18n.date(info.vipTierExpiredAt) })));
    }
    return box;
  }

  // ---------------------------------------------------------------- ways to earn

  function renderEarn(widget) {
    const { i18n } = widget;
    const list = el('ul', { class: 'loyalty-widget__list' });
    for (const rule of widget.earnRules) {
      const item = earnItem(widget, rule);
      if (item) {
        list.append(item);
      }
    }
    const part = section(i18n.t('section_earn'), 'loyalty-widget__earn');
    part.append(list);
    widget.parts.earn.replaceChildren(list.children.length ? part : '');
  }

  function done(widget) {
    return el('span', { class: 'loyalty-widget__badge' }, widget.i18n.t('earn_done'));
  }

  function earnItem(widget, rule) {
    const { i18n, info } = widget;
    const points = i18n.points(rule.points || 0);
    const item = (text, ...extra) => el('li', { class: 'loyalty-widget__item' },
      el('span', null, text), ...extra);
    switch (rule.kind) {
      case 'PURCHASE':
        return item(i18n.t('earn_purchase', {
          points: i18n.points(rule.pointsPerUnit || 0), amount: i18n.money(1),
        }));
      case 'SIGNUP':
        return item(i18n.t('earn_signup', { points }), info.rewardedForCreatingAccount && done(widget));
      case 'BIRTHDAY':
        return item(i18n.t('earn_birthday', { points }), birthdayForm(widget));
      case 'NEWSLETTER':
        return item(i18n.t('earn_newsletter', { points }), info.rewardedForNewsLetter && done(widget));
      case 'SMS':
        return item(i18n.t('earn_sms', { points }), info.rewardedForSms && done(widget));
      case 'SOCIAL_FOLLOW':
        return socialItem(widget, rule, 'follow', item);
      case 'SOCIAL_SHARE':
        return socialItem(widget, rule, 'share', item);
      case 'REFERRAL':
        return item(i18n.t('earn_referral', { points }));
      default:
        return null;
    }
  }

  function socialItem(widget, rule, action, item) {
    const { i18n, info, config } = widget;
    const network = rule.network;
    const name = NETWORKS[network] || network;
    const shop = encodeURIComponent(config.shopUrl || window.location.origin);
    const url = action === 'follow'
      ? (config.social || {})[network === 'x' ? 'twitter' : network]
      : { facebook: 'https://www.facebook.com/sharer/sharer.php?u=' + shop,
        x: 'https://x.com/intent/post?url=' + shop }[network];
    if (!url) {
      return null; // a follow needs the shop's profile, set in the block's settings
    }
    const flag = (action === 'follow' ? FOLLOW_FLAGS : SHARE_FLAGS)[network];
    const text = i18n.t(action === 'follow' ? 'earn_follow' : 'earn_share',
      { points: i18n.points(rule.points || 0), network: name });
    const button = el('button', { type: 'button', class: 'loyalty-widget__button loyalty-widget__button--small' },
      i18n.t(action === 'follow' ? 'follow_button' : 'share_button', { network: name }));
    button.addEventListener('click', async () => {
      window.open(url, '_blank', 'noopener,noreferrer'); // in the click itself: not a blocked pop-up
      button.disabled = true;
      const before = info[flag];
      try {
        widget.info = await widget.api.post('/cp/api/social-actions', { network, action });
        const paid = !before && widget.info[flag];
        announce(widget, paid ? i18n.t('earned_points', { points: i18n.points(rule.points || 0) })
          : i18n.t('already_rewarded'));
        renderBalance(widget);
        renderEarn(widget);
      } catch (error) {
        button.disabled = false;
        announce(widget, errorText(i18n, error), true);
      }
    });
    return item(text, info[flag] ? done(widget) : null, button);
  }

  function birthdayForm(widget) {
    const { i18n, info } = widget;
    if (info.dob) {
      return el('span', { class: 'loyalty-widget__muted' }, i18n.t('birthday_set', { date: i18n.birthday(info.dob) }));
    }
    const id = widget.id + '-dob';
    const input = el('input', {
      type: 'date', id, name: 'dob', required: true, max: new Date().toISOString().slice(0, 10),
      'aria-describedby': id + '-hint',
    });
    const submit = el('button', { type: 'submit', class: 'loyalty-widget__button loyalty-widget__button--small' },
      i18n.t('birthday_save'));
    const form = el('form', { class: 'loyalty-widget__form' },
      el('label', { for: id }, i18n.t('birthday_label')), input, submit,
      el('p', { class: 'loyalty-widget__muted', id: id + '-hint' }, i18n.t('birthday_hint')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      submit.disabled = true;
      try {
        widget.info = await widget.api.post('/cp/api/birthday', { dob: input.value });
        renderEarn(widget);
        announce(widget, i18n.t('birthday_saved', { date: i18n.birthday(widget.info.dob) }));
      } catch (error) {
        submit.disabled = false;
        announce(widget, errorText(i18n, error), true);
        input.focus();
      }
    });
    return form;
  }

  // ---------------------------------------------------------------- rewards to redeem

  function renderRedeem(widget) {
    const { i18n, info } = widget;
    const part = section(i18n.t('section_redeem'), 'loyalty-widget__redeem');
    const list = el('ul', { class: 'loyalty-widget__list' });
    for (const option of widget.redeemRules) {
      const cost = option.kind === 'VARIABLE_AMOUNT'
        ? i18n.t('redeem_variable_cost', { min: i18n.points(option.minPoints), max: i18n.points(option.maxPoints) })
        : i18n.points(option.pointsCost);
      const action = option.canRedeem
        ? el('button', {
          type: 'button', class: 'loyalty-widget__button loyalty-widget__button--small',
          'aria-label': i18n.t('redeem_button') + ': ' + option.name,
          onclick: (event) => confirmRedeem(widget, option, event.currentTarget),
        }, i18n.t('redeem_button'))
        : el('span', { class: 'loyalty-widget__muted' }, unavailable(i18n, option, info));
      list.append(el('li', { class: 'loyalty-widget__item loyalty-widget__reward' },
        el('span', null, el('strong', null, option.name),
          option.description ? el('span', { class: 'loyalty-widget__muted' }, ' ' + option.description) : null),
        el('span', { class: 'loyalty-widget__cost' }, cost), action));
    }
    part.append(list.children.length ? list : el('p', { class: 'loyalty-widget__muted' }, i18n.t('nothing_to_redeem')));
    widget.parts.redeem.replaceChildren(part);
  }

  function unavailable(i18n, option, info) {
    switch (option.unavailableReason) {
      case 'insufficient_points':
        return i18n.t('need_more', { points: i18n.points(Math.max(option.pointsCost - info.availablePoints, 1)) });
      case 'redeem_limit_reached':
        return i18n.t('already_claimed');
      case 'customer_not_eligible':
        return i18n.t('not_eligible');
      default:
        return errorText(i18n, new ApiError(option.unavailableReason || 'generic', '', 0));
    }
  }

  // The points a VARIABLE_AMOUNT reward takes: from minPoints in steps of increment.
  function affordable(option, available) {
    const step = option.increment || 1;
    const top = Math.min(option.maxPoints, available);
    return Math.max(option.minPoints, option.minPoints + Math.floor((top - option.minPoints) / step) * step);
  }

  function confirmRedeem(widget, option, trigger) {
    const { i18n } = widget;
    const dialog = widget.dialog;
    const id = widget.id + '-confirm';
    const question = el('p', { id: id + '-text' });
    const worth = el('p', { class: 'loyalty-widget__muted', 'aria-live': 'polite' });
    const error = el('p', { class: 'loyalty-widget__message loyalty-widget__message--error', role: 'alert' });
    const fields = el('div');
    let pointsInput = null;
    let variantInputs = [];

    function body() {
      const sent = { redeemRuleId: option.id };
      if (pointsInput) {
        sent.points = Number(pointsInput.value);
      }
      const chosen = variantInputs.find((input) => input.checked);
      if (chosen) {
        sent.variantId = Number(chosen.value);
      }
      return sent;
    }
    function describe() {
      const points = pointsInput ? Number(pointsInput.value) : option.pointsCost;
      question.textContent = i18n.t('confirm_text', { points: i18n.points(points), reward: option.name });
      if (pointsInput && option.pointsPerUnit) {
        worth.textContent = i18n.t('confirm_worth', {
          amount: i18n.money(Math.floor((points / option.pointsPerUnit) * 100) / 100),
        });
      }
    }

    if (option.kind === 'VARIABLE_AMOUNT') {
      pointsInput = el('input', {
        type: 'number', id: id + '-points', min: option.minPoints, max: option.maxPoints,
        step: option.increment || 1, value: affordable(option, widget.info.availablePoints),
        'aria-describedby': id + '-points-hint', required: true,
      });
      pointsInput.addEventListener('input', describe);
      fields.append(el('label', { for: id + '-points' }, i18n.t('confirm_points_label')), pointsInput,
        el('p', { class: 'loyalty-widget__muted', id: id + '-points-hint' }, i18n.t('confirm_points_hint', {
          min: i18n.number(option.minPoints), max: i18n.number(option.maxPoints),
          step: i18n.number(option.increment || 1),
        })));
    }
    if (option.kind === 'FREE_PRODUCT' && option.variantIds.length > 1) {
      variantInputs = option.variantIds.map((variant, n) => el('input', {
        type: 'radio', name: id + '-variant', value: variant, id: id + '-variant-' + n, checked: n === 0,
      }));
      fields.append(el('fieldset', { class: 'loyalty-widget__choices' },
        el('legend', null, i18n.t('confirm_variant_label')),
        variantInputs.map((input, n) => el('label', { for: input.id }, input, ' ',
          i18n.t('variant_option', { n: n + 1 })))));
    }
    const cancel = el('button', { type: 'button', class: 'loyalty-widget__link-button' }, i18n.t('confirm_cancel'));
    const yes = el('button', { type: 'submit', class: 'loyalty-widget__button', autofocus: true }, i18n.t('confirm_yes'));
    const form = el('form', { method: 'dialog', class: 'loyalty-widget__form' },
      el('h3', { class: 'loyalty-widget__heading', id: id + '-title' }, i18n.t('confirm_title')),
      question, fields, worth, error, el('p', { class: 'loyalty-widget__actions' }, cancel, yes));
    describe();

    let busy = false;
    cancel.addEventListener('click', () => dialog.close());
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (busy || (pointsInput && !pointsInput.reportValidity())) {
        return;
      }
      busy = true;
      yes.disabled = true;
      cancel.disabled = true;
      yes.textContent = i18n.t('redeeming');
      error.textContent = '';
      dialog.setAttribute('aria-busy', 'true');
      const intent = widget.intentFor(body());
      try {
        const info = await redeem(widget.api, intent);
        widget.intents.delete(intent.id);
        widget.returnFocus = null;
        dialog.close();
        redeemed(widget, option, info);
      } catch (failure) {
        if (failure.code !== 'network' && failure.status < 500) {
          widget.intents.delete(intent.id); // the app's definite answer: a new try is a new intent
        }
        error.textContent = errorText(i18n, failure);
        yes.disabled = false;
        cancel.disabled = false;
        yes.textContent = i18n.t('confirm_yes');
        busy = false;
      } finally {
        dialog.removeAttribute('aria-busy');
      }
    });
    dialog.setAttribute('aria-labelledby', id + '-title');
    dialog.setAttribute('aria-describedby', id + '-text');
    dialog.replaceChildren(form);
    widget.returnFocus = trigger;
    dialog.showModal();
    (pointsInput || yes).focus();
  }

  function redeemed(widget, option, info) {
    const { i18n } = widget;
    widget.info = info;
    const reward = info.rewards[0]; // the new reward comes first
    renderBalance(widget);
    renderMyRewards(widget);
    const card = el('div', { class: 'loyalty-widget__card', tabindex: '-1', 'data-loyalty-result': '' },
      el('h3', { class: 'loyalty-widget__heading' }, i18n.t('code_title', { reward: option.name })));
    if (reward && reward.rewardType === 'STORE_CREDIT') {
      card.append(el('p', null, i18n.t('store_credit_added', { amount: i18n.money(reward.amount || 0) })));
    } else if (reward && reward.discountCode) {
      card.append(el('p', null, i18n.t('code_text')), codeLine(widget, reward.discountCode));
      if (reward.fulfillmentStatus === 'PENDING') {
        const note = el('p', { class: 'loyalty-widget__muted' }, i18n.t('code_preparing'));
        card.append(note);
        watchActivation(widget, reward.id, card, note);
      }
    }
    widget.parts.result.replaceChildren(card);
    card.focus(); // read out where it is; the dialog's trigger may be gone
    refreshOptions(widget);
  }

  async function refreshOptions(widget) {
    try {
      widget.redeemRules = await widget.api.get('/cp/api/point-redeem-rules');
    } catch {
      return; // the list keeps its last state; the next load corrects it
    }
    renderRedeem(widget);
  }

  async function watchActivation(widget, rewardId, card, note) {
    for (let check = 0; check < ACTIVATION_CHECKS; check += 1) {
      await sleep(ACTIVATION_DELAY_MS);
      let rewards;
      try {
        rewards = await widget.api.get('/cp/api/rewards?size=20');
      } catch {
        continue;
      }
      const reward = rewards.find((row) => row.id === rewardId);
      if (reward && reward.fulfillmentStatus === 'DONE') {
        note.remove();
        return;
      }
      if (reward && reward.fulfillmentStatus === 'FAILED') {
        card.replaceChildren(el('p', { class: 'loyalty-widget__message--error' }, widget.i18n.t('code_failed')));
        widget.info = await widget.api.get('/cp/api/customer-loyalty');
        renderBalance(widget);
        renderMyRewards(widget);
        return;
      }
    }
  }

  // ---------------------------------------------------------------- my rewards

  function renderMyRewards(widget) {
    const { i18n, info } = widget;
    if (!widget.sections.has('my_rewards')) {
      return;
    }
    const part = section(i18n.t('section_my_rewards'), 'loyalty-widget__mine');
    const list = el('ul', { class: 'loyalty-widget__list' });
    for (const reward of info.rewards) {
      const usable = reward.status === 'UNUSED';
      const item = el('li', { class: 'loyalty-widget__item loyalty-widget__mine-item' },
        el('span', null, el('strong', null, reward.description || ''), ' ',
          el('span', { class: 'loyalty-widget__badge loyalty-widget__badge--' + reward.status.toLowerCase() },
            i18n.t('status_' + reward.status))));
      if (reward.rewardType === 'STORE_CREDIT') {
        item.append(el('span', null, i18n.money(reward.amount || 0)));
      } else if (reward.discountCode && usable) {
        item.append(codeLine(widget, reward.discountCode));
      } else if (reward.discountCode) {
        item.append(el('code', { class: 'loyalty-widget__code' }, reward.discountCode));
      }
      if (usable && reward.expireDate) {
        item.append(el('span', { class: 'loyalty-widget__muted' }, i18n.t('expires', { date: i18n.date(reward.expireDate) })));
      }
      list.append(item);
    }
    part.append(list.children.length ? list : el('p', { class: 'loyalty-widget__muted' }, i18n.t('no_rewards_yet')));
    widget.parts.mine.replaceChildren(part);
  }

  // ---------------------------------------------------------------- referrals

  function offerText(i18n, kind, value) {
    return kind === 'PERCENTAGE' ? i18n.number(Number(value)) + ' %' : i18n.money(value);
  }

  function renderReferral(widget) {
    const { i18n, referrals } = widget;
    const rule = widget.earnRules.find((r) => r.kind === 'REFERRAL');
    if (!rule || !referrals || !referrals.referralLink) {
      return;
    }
    const id = widget.id + '-referral';
    const link = el('input', {
      id, type: 'text', readonly: true, value: referrals.referralLink, class: 'loyalty-widget__input',
    });
    link.addEventListener('focus', () => link.select());
    const part = section(i18n.t('section_referral'), 'loyalty-widget__referral');
    part.append(
      el('p', null, i18n.t('earn_referral', { points: i18n.points(rule.points || 0) })),
      rule.refereeValue ? el('p', null, i18n.t('referral_offer', {
        offer: offerText(i18n, rule.refereeKind, rule.refereeValue),
      })) : null,
      el('label', { for: id }, i18n.t('referral_link_label')),
      el('p', { class: 'loyalty-widget__code-line' }, link, copyButton(widget, referrals.referralLink, link)));
    if (referrals.referredCompleted > 0) {
      const form = referrals.referredCompleted === 1 ? 'one' : 'other';
      part.append(el('p', { class: 'loyalty-widget__muted' },
        i18n.t('referral_count_' + form, { count: i18n.number(referrals.referredCompleted) })));
    }
    if (referrals.referrals.length) {
      part.append(el('ul', { class: 'loyalty-widget__list' }, referrals.referrals.map((row) =>
        el('li', { class: 'loyalty-widget__item' }, el('span', null, row.email),
          el('span', { class: 'loyalty-widget__badge' }, i18n.t('referral_state_' + row.state))))));
    }
    widget.parts.referral.replaceChildren(part);
  }

  function storedReferral() {
    try {
      return window.localStorage.getItem(REF_STORAGE);
    } catch {
      return null; // storage refused (private browsing): the claim needs the link's page
    }
  }

  function captureReferral() {
    const code = new URLSearchParams(window.location.search).get(REF_PARAM);
    if (code && REF_CODE.test(code)) {
      try {
        window.localStorage.setItem(REF_STORAGE, code);
      } catch {
        // nothing to keep it in; the claim form still shows on this page
      }
    }
    return code && REF_CODE.test(code) ? code : storedReferral();
  }

  function renderClaim(widget, code) {
    const { i18n } = widget;
    const id = widget.id + '-claim';
    const email = el('input', { type: 'email', id, name: 'email', required: true, autocomplete: 'email', class: 'loyalty-widget__input' });
    const submit = el('button', { type: 'submit', class: 'loyalty-widget__button' }, i18n.t('claim_button'));
    const form = el('form', { class: 'loyalty-widget__form' },
      el('p', null, i18n.t('claim_text')), el('label', { for: id }, i18n.t('claim_email_label')), email, submit);
    const part = section(i18n.t('claim_title'), 'loyalty-widget__claim');
    part.append(form);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      submit.disabled = true;
      try {
        const claimed = await widget.api.post('/referrals/' + encodeURIComponent(code) + '/claim', { email: email.value });
        try {
          window.localStorage.removeItem(REF_STORAGE);
        } catch {
          // nothing was stored
        }
        const card = el('div', { class: 'loyalty-widget__card', tabindex: '-1' },
          el('p', null, i18n.t('claim_done', { offer: offerText(i18n, claimed.kind, claimed.value) })),
          codeLine(widget, claimed.discountCode));
        part.replaceChildren(part.firstChild, card);
        card.focus();
      } catch (error) {
        submit.disabled = false;
        announce(widget, errorText(i18n, error), true);
      }
    });
    widget.parts.claim.replaceChildren(part);
  }

  // ---------------------------------------------------------------- a widget

  function makeWidget(root) {
    const config = JSON.parse(root.querySelector('[data-loyalty-config]').textContent);
    const body = root.querySelector('[data-loyalty-body]') || root.querySelector('[data-loyalty-guest]');
    const live = el('p', { class: 'loyalty-widget__message', role: 'status', 'aria-live': 'polite' });
    const parts = {};
    for (const name of ['claim', 'balance', 'result', 'earn', 'redeem', 'mine', 'referral']) {
      parts[name] = el('div', { class: 'loyalty-widget__part' });
    }
    const widget = {
      root, config, body, live, parts,
      id: root.id || 'loyalty-widget',
      i18n: makeI18n(config),
      api: makeApi(config.proxyBase || '/apps/loyalty'),
      sections: new Set(String(config.sections || '').split(',').filter(Boolean)),
      info: null, tiers: [], earnRules: [], redeemRules: [], referrals: null,
      dialog: el('dialog', { class: 'loyalty-widget__dialog' }),
      returnFocus: null,
      intents: new Map(),
      // One intent (a reward, its points and variant) keeps one key until the app answers.
      intentFor(sent) {
        const id = JSON.stringify(sent);
        if (!widget.intents.has(id)) {
          widget.intents.set(id, { id, body: sent, key: newKey() });
        }
        return widget.intents.get(id);
      },
    };
    widget.dialog.addEventListener('close', () => {
      if (widget.returnFocus && widget.returnFocus.isConnected) {
        widget.returnFocus.focus();
      }
    });
    widget.dialog.addEventListener('cancel', (event) => {
      if (widget.dialog.hasAttribute('aria-busy')) {
        event.preventDefault(); // Escape while redeeming would hide the answer
      }
    });
    widget.dialog.addEventListener('click', (event) => {
      if (event.target === widget.dialog && !widget.dialog.hasAttribute('aria-busy')) {
        widget.dialog.close(); // a click on the backdrop
      }
    });
    root.append(widget.dialog);
    return widget;
  }

  async function load(widget) {
    const { i18n, api, sections, body } = widget;
    body.setAttribute('aria-busy', 'true');
    body.replaceChildren(el('p', { class: 'loyalty-widget__status' }, i18n.t('loading')));
    try {
      // First: it enrols a customer the app has not seen, before the reads below.
      widget.info = await api.get('/cp/api/customer-loyalty');
      const wanted = [
        sections.has('tier') && widget.info.tierProgress ? api.get('/cp/api/vip-tiers') : [],
        sections.has('earn') || sections.has('referral') ? api.get('/cp/api/point-earn-rules') : [],
        sections.has('redeem') ? api.get('/cp/api/point-redeem-rules') : [],
        sections.has('referral') ? api.get('/cp/api/referrals?size=5') : null,
      ];
      [widget.tiers, widget.earnRules, widget.redeemRules, widget.referrals] = await Promise.all(wanted);
    } catch (error) {
      body.removeAttribute('aria-busy');
      body.replaceChildren(
        el('p', { class: 'loyalty-widget__message loyalty-widget__message--error', role: 'alert' },
          i18n.t('load_failed') + ' ' + errorText(i18n, error)),
        el('button', { type: 'button', class: 'loyalty-widget__button', onclick: () => load(widget) }, i18n.t('retry')));
      return;
    }
    const p = widget.parts;
    body.replaceChildren(widget.live, p.claim, p.balance, p.result, p.earn, p.redeem, p.mine, p.referral);
    body.removeAttribute('aria-busy');
    renderBalance(widget);
    if (sections.has('earn')) {
      renderEarn(widget);
    }
    if (sections.has('redeem')) {
      renderRedeem(widget);
    }
    renderMyRewards(widget);
    if (sections.has('referral')) {
      renderReferral(widget);
    }
    const ref = captureReferral();
    const own = widget.referrals && widget.referrals.referralCode;
    if (ref && (!own || own.toUpperCase() !== ref.toUpperCase())) {
      renderClaim(widget, ref); // a friend's link, followed before signing in
    }
  }

  function startGuest(widget) {
    const ref = captureReferral();
    if (ref) {
      widget.body.append(widget.live, widget.parts.claim);
      renderClaim(widget, ref);
    }
  }

  function start(root) {
    if (root.dataset.loyaltyStarted) {
      return;
    }
    root.dataset.loyaltyStarted = 'true';
    const widget = makeWidget(root);
    if (widget.config.signedIn) {
      load(widget);
    } else {
      startGuest(widget);
    }
  }

  function startLauncher(launcher) {
    const open = launcher.querySelector('[data-loyalty-open]');
    const panel = launcher.querySelector('dialog');
    if (!open || !panel || launcher.dataset.loyaltyStarted) {
      return;
    }
    launcher.dataset.loyaltyStarted = 'true';
    open.addEventListener('click', () => {
      panel.showModal();
      const root = panel.querySelector('[data-loyalty-widget]');
      if (root) {
        start(root);
      }
    });
    launcher.querySelector('[data-loyalty-close]').addEventListener('click', () => panel.close());
    panel.addEventListener('click', (event) => {
      if (event.target === panel) {
        panel.close();
      }
    });
    panel.addEventListener('close', () => open.focus());
  }

  function startAll(scope) {
    scope.querySelectorAll('[data-loyalty-widget]:not([data-loyalty-lazy])').forEach(start);
    scope.querySelectorAll('[data-loyalty-launcher]').forEach(startLauncher);
  }

  window.LoyaltyWidget = { start: startAll };
  captureReferral();
  // The theme editor renders a section anew when the merchant changes a setting.
  document.addEventListener('shopify:section:load', (event) => startAll(event.target));
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', () => startAll(document));
  } else {
    startAll(document);
  }
})();
