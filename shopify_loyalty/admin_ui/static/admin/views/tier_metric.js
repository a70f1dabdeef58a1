// The shop's tier metric (what tier progress counts): how thresholds and progress read.

import {formatMoney, formatNumber} from '../dom.js';
import {currencySymbol} from './kinds.js';

const UNITS = {POINTS_EARNED: 'points', ORDERS: 'orders'};

/** A threshold or a progress figure in the metric: "$250.00", "1,200 points", "3 orders". */
export function inMetric(value, metric, currency) {
  if (value === null || value === undefined) return '—';
  if (metric === 'SPENT') return formatMoney(value, currency);
  return `${formatNumber(value)} ${UNITS[metric] || ''}`.trim();
}

/** The threshold field's prefix or suffix for the metric. */
export function thresholdAffix(metric, currency) {
  if (metric === 'SPENT') return {prefix: currencySymbol(currency), suffix: null};
  return {prefix: null, suffix: UNITS[metric] || null};
}

export const METRIC_WORDS = {SPENT: 'money spent in paid orders, net of refunds',
  POINTS_EARNED: 'points earned (not adjustments)', ORDERS: 'paid orders, net of cancelled'};
export const PERIOD_WORDS = {LIFETIME: 'all time; a tier is kept for good',
  CALENDAR_YEAR: 'this calendar year; a tier is kept to the end of the next one',
  ROLLING_12_MONTHS: 'the last 365 days; a tier is kept 365 days'};
