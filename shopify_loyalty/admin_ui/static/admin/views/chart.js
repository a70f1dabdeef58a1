// Points earned and redeemed per day as inline SVG bars (no chart library), with the same
// figures as a table for screen readers and for anyone who wants the numbers. The bars
// stretch to any width; the axis labels are HTML around them, so they stay readable on a
// phone.

import {formatDate, formatNumber, h, svg, uid} from '../dom.js';
import {table} from '../ui.js';

// The plot's own units; preserveAspectRatio="none" stretches them to the box.
const WIDTH = 300;
const HEIGHT = 100;

function niceMax(value) {
  if (value <= 0) return 10;
  const step = 10 ** Math.floor(Math.log10(value));
  return Math.ceil(value / step) * step;
}

function bars(days, max) {
  const slot = WIDTH / days.length;
  const width = slot * 0.36;
  const top = (value) => HEIGHT - (value / max) * HEIGHT;
  return days.map((day, i) => {
    const x = i * slot + (slot - 2 * width) / 2;
    return svg('g', {},
      svg('title', {}, `${formatDate(day.date)}: ${formatNumber(day.earned)} earned, `
        + `${formatNumber(day.redeemed)} redeemed`),
      svg('rect', {class: 'bar--earned', x, y: top(day.earned), width,
        height: HEIGHT - top(day.earned)}),
      svg('rect', {class: 'bar--redeemed', x: x + width, y: top(day.redeemed), width,
        height: HEIGHT - top(day.redeemed)}));
  });
}

export function pointsChart(days) {
  const max = niceMax(Math.max(...days.map((d) => Math.max(d.earned, d.redeemed))));
  const earned = days.reduce((sum, d) => sum + d.earned, 0);
  const redeemed = days.reduce((sum, d) => sum + d.redeemed, 0);
  const titleId = uid('chart');
  const grid = [0, 0.5, 1].map((share) => svg('line', {class: 'grid', x1: 0, x2: WIDTH,
    y1: HEIGHT * share, y2: HEIGHT * share, 'vector-effect': 'non-scaling-stroke'}));
  return h('div', {class: 'chart'},
    h('div', {class: 'chart__plot'},
      h('div', {class: 'chart__y', 'aria-hidden': 'true'},
        [max, max / 2, 0].map((value) => h('span', {}, formatNumber(value)))),
      svg('svg', {viewBox: `0 0 ${WIDTH} ${HEIGHT}`, preserveAspectRatio: 'none', role: 'img',
        'aria-labelledby': titleId},
      svg('title', {id: titleId}, `Points per day over ${days.length} days: `
        + `${formatNumber(earned)} earned, ${formatNumber(redeemed)} redeemed`),
      grid, bars(days, max)),
      h('div', {class: 'chart__x', 'aria-hidden': 'true'},
        [0, Math.floor(days.length / 2), days.length - 1].map((i) =>
          h('span', {}, formatDate(days[i].date))))),
    h('p', {class: 'chart__legend'},
      h('span', {}, h('span', {class: 'chart__key chart__key--earned'}),
        `Earned: ${formatNumber(earned)}`),
      h('span', {}, h('span', {class: 'chart__key chart__key--redeemed'}),
        `Redeemed: ${formatNumber(redeemed)}`)),
    h('details', {}, h('summary', {}, 'Show the figures'),
      table({caption: 'Points per day', rows: [...days].reverse(), columns: [
        {label: 'Day (UTC)', render: (d) => formatDate(d.date)},
        {label: 'Earned', numeric: true, render: (d) => formatNumber(d.earned)},
        {label: 'Redeemed', numeric: true, render: (d) => formatNumber(d.redeemed)},
      ]})));
}
