import { extractEntitiesDeterministically, type SimulatedExtraction } from './entity-extraction.js';

/**
 * Answers that real users of LLM gateways see every week, triggered by a marker in the text sent to
 * the simulator (a record's body, an AI job's text), so tests and `npm run simulator` users can
 * reproduce each one. README, "The provider simulator", lists them.
 */
export const FAULT_MARKERS = {
  /** OpenAI: `refusal` set, `content` null. Anthropic: `stop_reason` "refusal". Gemini has no refusal: it answers prose (not JSON). */
  refusal: '[[sim:refusal]]',
  /** The JSON wrapped in a Markdown fence with prose around it (Anthropic: as text, no `tool_use` block). */
  prose: '[[sim:prose]]',
  /** The JSON with a trailing comma after every last item (Anthropic: the tool `input` sent as that string). */
  trailingCommas: '[[sim:trailing-commas]]',
  /** Prose that holds no JSON at all (Anthropic: no `tool_use` block). */
  notJson: '[[sim:not-json]]',
  /** Valid JSON of another shape than the schema's. */
  wrongShape: '[[sim:wrong-shape]]',
  /** Every entity's description is null. */
  nullDescription: '[[sim:null-description]]',
  /** The answer is cut off at the output limit (finish_reason "length", Gemini MAX_TOKENS, Anthropic stop_reason "max_tokens"), always. */
  truncated: '[[sim:truncated]]',
  /** Stopped by a safety filter (OpenAI finish_reason "content_filter", Gemini finishReason SAFETY, Anthropic stop_reason "refusal"). */
  safety: '[[sim:safety]]',
  /**
   * Gemini: the prompt is blocked (promptFeedback.blockReason, no candidates); Azure OpenAI: its prompt
   * filter's 400 with code `content_filter`; OpenAI and Anthropic: as safety.
   */
  blocked: '[[sim:blocked]]',
  /** A 200 whose body is an error object with no choices, candidates or content (OpenRouter and other gateways). */
  errorBody: '[[sim:error-body]]',
  /** Entity names with a NUL character and a lone surrogate, which Postgres text cannot store. */
  unstorable: '[[sim:unstorable]]',
} as const;

/** `[[sim:truncate-above:N]]`: the answer is cut off while the text sent is longer than N characters. */
const TRUNCATE_ABOVE = /\[\[sim:truncate-above:(\d+)\]\]/;
/** `[[sim:rate-limit-burst:COUNT:SECONDS]]`: the first request carrying it starts COUNT 429s with retry-after SECONDS. */
export const RATE_LIMIT_BURST = /\[\[sim:rate-limit-burst:(\d+):(\d+)\]\]/;

export type SimulatedFault = keyof typeof FAULT_MARKERS;

/** The fault a text asks for, if any (the first marker found). */
export function faultIn(text: string): SimulatedFault | undefined {
  const limit = TRUNCATE_ABOVE.exec(text);
  if (limit && text.length > Number(limit[1])) return 'truncated';
  return (Object.keys(FAULT_MARKERS) as SimulatedFault[]).find((fault) => text.includes(FAULT_MARKERS[fault]));
}

/** How the answer's text is damaged for a fault that still answers 200 with text. */
export function damagedAnswer(fault: SimulatedFault, user: string): string {
  const graph = extractEntitiesDeterministically(user);
  switch (fault) {
    case 'prose':
      return `Sure! Here is the knowledge graph you asked for:\n\n\`\`\`json\n${JSON.stringify(graph, null, 2)}\n\`\`\`\n\nLet me know if you need anything else.`;
    case 'trailingCommas':
      return JSON.stringify(graph, null, 2).replace(/\n(\s*)([}\]])/g, ',\n$1$2');
    case 'notJson':
    case 'refusal':
      return 'I could not find a knowledge graph in this text.';
    case 'wrongShape':
      return JSON.stringify({ people: graph.entities.map((e) => e.name) });
    case 'nullDescription':
      return JSON.stringify({ ...graph, entities: graph.entities.map((e) => ({ ...e, description: null })) });
    case 'truncated': {
      const full = JSON.stringify(graph);
      return full.slice(0, Math.max(1, Math.floor(full.length / 2)));
    }
    case 'unstorable':
      return JSON.stringify(withUnstorableNames(graph));
    default:
      return JSON.stringify(graph);
  }
}

function withUnstorableNames(graph: SimulatedExtraction): SimulatedExtraction {
  const extra = [
    { name: 'Nul\u0000Byte Holdings', type: 'organization' as const, description: 'An organization whose name carries a NUL\u0000 character' },
    { name: 'Lone \uD800Surrogate', type: 'person' as const, description: 'A person named with a lone \uDC00 surrogate' },
  ];
  return { entities: [...graph.entities, ...extra], relationships: graph.relationships };
}
