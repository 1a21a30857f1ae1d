import type { StylesheetJson } from 'cytoscape';

/**
 * The graph view's Cytoscape stylesheet. Node data: color, size (diameter), labelSize (font size, in
 * model units). Classes: hidden, landmark (always labelled), faded (outside the focused neighbourhood),
 * match (a search hit), neighbour (linked to the selected node).
 */
export const GRAPH_STYLE: StylesheetJson = [
  {
    selector: 'node',
    style: {
      'background-color': 'data(color)',
      width: 'data(size)',
      height: 'data(size)',
      label: 'data(name)',
      'font-size': 'data(labelSize)',
      'font-family': 'system-ui, sans-serif',
      color: '#111827',
      'text-valign': 'bottom',
      'text-margin-y': 3,
      // a label shows once it would be at least 8 px on screen: hubs' larger labels first
      'min-zoomed-font-size': 8,
      'text-wrap': 'ellipsis',
      'text-max-width': '140px',
      'text-background-color': '#ffffff',
      'text-background-opacity': 0.75,
      'text-background-padding': '1px',
      'text-background-shape': 'roundrectangle',
      'border-width': 1,
      'border-color': '#ffffff',
    },
  },
  { selector: 'node.landmark', style: { 'min-zoomed-font-size': 5, 'font-weight': 'bold', 'text-wrap': 'none' } },
  {
    selector: 'edge',
    style: { 'curve-style': 'haystack', 'haystack-radius': 0, width: 'data(width)', 'line-color': '#94a3b8', opacity: 0.55 },
  },
  { selector: '.hidden', style: { display: 'none' } },
  { selector: 'node.faded', style: { opacity: 0.12, 'text-opacity': 0 } },
  { selector: 'edge.faded', style: { opacity: 0.05 } },
  { selector: 'node.match', style: { 'border-width': 3, 'border-color': '#f59e0b' } },
  { selector: 'node.neighbour', style: { 'border-width': 2, 'border-color': '#111827', 'min-zoomed-font-size': 0 } },
  { selector: 'edge.neighbour', style: { 'line-color': '#111827', opacity: 0.9 } },
  {
    selector: 'node:selected',
    style: {
      'border-width': 4,
      'border-color': '#111827',
      'z-index': 10,
      'font-weight': 'bold',
      'min-zoomed-font-size': 0,
      'text-wrap': 'none',
    },
  },
];
