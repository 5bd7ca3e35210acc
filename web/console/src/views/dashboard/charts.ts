/**
 * ECharts for 统计, only the parts used (pie, bar, line; tooltip, legend, grid, title; canvas),
 * and the options of the dashboard's charts. Tooltips are drawn on the canvas (richText):
 * ECharts' HTML tooltip writes style attributes into markup, which the console's CSP
 * (style-src 'self') refuses.
 */
import * as echarts from 'echarts/core';
import { BarChart, LineChart, PieChart, type BarSeriesOption, type LineSeriesOption, type PieSeriesOption } from 'echarts/charts';
import {
  GridComponent, LegendComponent, TitleComponent, TooltipComponent,
  type GridComponentOption, type LegendComponentOption, type TitleComponentOption, type TooltipComponentOption,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import type { ComposeOption } from 'echarts/core';
import type { Count, Rating, Stats, UnitStats } from './dashboard.ts';
import { RATING_NAMES, daysOf } from './dashboard.ts';

echarts.use([PieChart, BarChart, LineChart, GridComponent, LegendComponent, TitleComponent, TooltipComponent, CanvasRenderer]);

export { echarts };
export type ChartOption = ComposeOption<PieSeriesOption | BarSeriesOption | LineSeriesOption | GridComponentOption | LegendComponentOption | TitleComponentOption | TooltipComponentOption>;

/** A clicked data item: its series and, for the dashboard's own data, its key. */
export interface ChartPick { seriesIndex: number; seriesName: string; name: string; dataIndex: number; key: string | null }

const PALETTE = ['#1f4e8c', '#4e8fd6', '#36a3a3', '#67c23a', '#e6a23c', '#c45656', '#8e6fc9', '#909399', '#b88230', '#5b7a99'];
const RATING_COLORS: Record<Rating, string> = { 非常满意: '#529b2e', 满意: '#95d475', 基本满意: '#4e8fd6', 不满意: '#e6a23c', 非常不满意: '#c45656' };
const TEXT = { color: '#606266', fontSize: 12 };
const tooltip = (trigger: 'item' | 'axis'): TooltipComponentOption => ({ trigger, renderMode: 'richText', confine: true, ...(trigger === 'axis' ? { axisPointer: { type: 'shadow' } } : {}) });
const empty = (none: boolean): TitleComponentOption | undefined =>
  none ? { text: '暂无数据', left: 'center', top: 'middle', textStyle: { color: '#909399', fontSize: 13, fontWeight: 'normal' } } : undefined;

/** A summary in words for screen readers (the canvas says nothing). */
export const summary = (list: Array<{ name: string; n: number }>) => (list.length ? list.map((c) => `${c.name} ${c.n}`).join('，') : '暂无数据');

export function pieOption(list: Count[], colors?: Record<string, string>): ChartOption {
  const data = list.filter((c) => c.n > 0).map((c) => ({ name: c.name, value: c.n, key: c.key, ...(colors?.[c.key] ? { itemStyle: { color: colors[c.key] } } : {}) }));
  return {
    color: PALETTE,
    title: empty(!data.length),
    tooltip: { ...tooltip('item'), formatter: '{b}：{c}（{d}%）' },
    legend: { type: 'scroll', bottom: 0, textStyle: TEXT },
    series: [{ type: 'pie', radius: ['35%', '62%'], center: ['50%', '44%'], data, label: { formatter: '{b} {c}', ...TEXT }, cursor: 'pointer' }],
  };
}

export function ratingsOption(distribution: Stats['ratings']['distribution']): ChartOption {
  return pieOption(RATING_NAMES.map((r) => ({ key: r, name: r, n: distribution[r] ?? 0 })), RATING_COLORS);
}

/** Bars of counts (one series), e.g. hand-over reasons or the most asked items. */
export function barOption(list: Count[], name: string, horizontal = false): ChartOption {
  const names = list.map((c) => c.name);
  const data = list.map((c) => ({ value: c.n, key: c.key }));
  const category = { type: 'category' as const, data: names, axisLabel: { ...TEXT, interval: 0, ...(horizontal ? { width: 110, overflow: 'truncate' as const } : { rotate: names.length > 4 ? 30 : 0 }) } };
  const value = { type: 'value' as const, minInterval: 1, axisLabel: TEXT };
  return {
    color: PALETTE,
    title: empty(!list.length),
    tooltip: tooltip('axis'),
    grid: { left: horizontal ? 120 : 40, right: 20, top: 20, bottom: horizontal ? 24 : 50 },
    xAxis: horizontal ? value : category,
    yAxis: horizontal ? { ...category, inverse: true } : value,
    series: [{ type: 'bar', name, data, barMaxWidth: 28, cursor: 'pointer' }],
  };
}

/** Cases by unit: 登记, 办结 and 超期 side by side. */
export function unitsOption(units: UnitStats[]): ChartOption {
  const bar = (name: string, pick: (u: UnitStats) => number, color: string): BarSeriesOption => ({ type: 'bar', name, data: units.map((u) => ({ value: pick(u), key: u.unit })), itemStyle: { color }, barMaxWidth: 22, cursor: 'pointer' });
  return {
    title: empty(!units.length),
    tooltip: tooltip('axis'),
    legend: { top: 0, textStyle: TEXT },
    grid: { left: 40, right: 20, top: 32, bottom: 56 },
    xAxis: { type: 'category', data: units.map((u) => u.name), axisLabel: { ...TEXT, interval: 0, rotate: units.length > 3 ? 25 : 0 } },
    yAxis: { type: 'value', minInterval: 1, axisLabel: TEXT },
    series: [bar('登记', (u) => u.opened, '#1f4e8c'), bar('办结', (u) => u.closed, '#67c23a'), bar('超期', (u) => u.overdue, '#c45656')],
  };
}

/** Conversations and questions by day, every day of the period on the axis. */
export function byDayOption(s: Stats): ChartOption {
  const days = daysOf(s.period);
  const of = (list: Array<{ date: string; n: number }>) => {
    const m = new Map(list.map((d) => [d.date, d.n]));
    return days.map((d) => ({ value: m.get(d) ?? 0, key: d }));
  };
  const line = (name: string, data: Array<{ value: number; key: string }>): LineSeriesOption => ({ type: 'line', name, data, symbolSize: 7, cursor: 'pointer' });
  return {
    color: ['#1f4e8c', '#36a3a3'],
    tooltip: tooltip('axis'),
    legend: { top: 0, textStyle: TEXT },
    grid: { left: 40, right: 20, top: 32, bottom: 30 },
    xAxis: { type: 'category', data: days.map((d) => d.slice(5)), axisLabel: TEXT },
    yAxis: { type: 'value', minInterval: 1, axisLabel: TEXT },
    series: [line('会话', of(s.service?.conversations.byDay ?? [])), line('提问', of(s.service?.questions.byDay ?? []))],
  };
}

/** Conversations and questions by hour of the day (bureau time). */
export function byHourOption(s: Stats): ChartOption {
  const hours = Array.from({ length: 24 }, (_, h) => `${h}时`);
  return {
    color: ['#1f4e8c', '#36a3a3'],
    tooltip: tooltip('axis'),
    legend: { top: 0, textStyle: TEXT },
    grid: { left: 40, right: 20, top: 32, bottom: 30 },
    xAxis: { type: 'category', data: hours, axisLabel: TEXT },
    yAxis: { type: 'value', minInterval: 1, axisLabel: TEXT },
    series: [
      { type: 'bar', name: '会话', data: (s.service?.conversations.byHour ?? []).map((n, h) => ({ value: n, key: String(h) })), barMaxWidth: 12, cursor: 'pointer' },
      { type: 'bar', name: '提问', data: (s.service?.questions.byHour ?? []).map((n, h) => ({ value: n, key: String(h) })), barMaxWidth: 12, cursor: 'pointer' },
    ],
  };
}
