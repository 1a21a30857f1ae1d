import { createHash } from 'node:crypto';

export type SimulatedEntityType = 'person' | 'organization' | 'email';

export interface SimulatedEntity {
  name: string;
  type: SimulatedEntityType;
  description: string;
}

export interface SimulatedRelationship {
  source: string;
  target: string;
  description: string;
  /** 1 to 10. */
  strength: number;
}

export interface SimulatedExtraction {
  entities: SimulatedEntity[];
  relationships: SimulatedRelationship[];
}

/** Capitalised words that start sentences or greet, and name nothing. */
const STOPWORDS = new Set(
  (
    'a an and are as at be best but by cc dear do for from hello hey hi i if in is it its kind let me my no not of on or ' +
    'our please re fwd fw regards see sent so subject thanks thank that the then there these this those to us we what ' +
    'when where which who why will with yes you your monday tuesday wednesday thursday friday saturday sunday'
  ).split(' '),
);
const ORG_SUFFIXES = new Set(
  'inc corp corporation ltd llc gmbh ag sa co company labs bank university group technologies systems partners holdings'.split(' '),
);
const TOKEN = /([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})|(\p{L}[\p{L}\p{N}&'’-]*)|(\S)/gu;

function typeOf(words: string[]): SimulatedEntityType {
  const last = words[words.length - 1].replace(/\.$/, '').toLowerCase();
  if (ORG_SUFFIXES.has(last)) return 'organization';
  if (words.length === 1 && words[0].length >= 2 && words[0] === words[0].toUpperCase()) return 'organization';
  return 'person';
}

/** Entity names in order of appearance in one sentence. */
function entitiesInSentence(sentence: string): SimulatedEntity[] {
  const found: SimulatedEntity[] = [];
  let run: string[] = [];
  const flush = () => {
    if (run.length) found.push({ name: run.join(' '), type: typeOf(run), description: '' });
    run = [];
  };
  for (const [, email, word] of sentence.matchAll(TOKEN)) {
    if (email) {
      flush();
      found.push({ name: email.toLowerCase(), type: 'email', description: '' });
    } else if (word && /^\p{Lu}/u.test(word) && word.length > 1 && !STOPWORDS.has(word.toLowerCase())) {
      run.push(word.replace(/['’]s$/, ''));
    } else {
      flush();
    }
  }
  flush();
  return found.map((e) => ({ ...e, description: `${e.type} named ${e.name} in the source text` }));
}

function strengthOf(source: string, target: string): number {
  return (createHash('sha256').update(`${source}\u0000${target}`).digest()[0] % 10) + 1;
}

/**
 * The simulator's "model": capitalised word runs and email addresses are entities (an org suffix
 * or an all-caps word makes an organization, an address an email, anything else a person), and
 * neighbours in one sentence are related with a strength from a hash. Pure, so tests can compute
 * what an extraction through the simulator must produce.
 */
export function extractEntitiesDeterministically(text: string): SimulatedExtraction {
  const entities = new Map<string, SimulatedEntity>();
  const relationships = new Map<string, SimulatedRelationship>();
  for (const sentence of text.split(/(?<=[.!?])\s+|\n+/)) {
    const inSentence = entitiesInSentence(sentence).filter((e, i, all) => all.findIndex((o) => o.name.toLowerCase() === e.name.toLowerCase()) === i);
    for (const entity of inSentence) {
      if (!entities.has(entity.name.toLowerCase())) entities.set(entity.name.toLowerCase(), entity);
    }
    // relationships use the spelling of an entity's first mention, as the entity list does
    const names = inSentence.map((e) => entities.get(e.name.toLowerCase())!.name);
    for (let i = 1; i < names.length; i++) {
      const source = names[i - 1];
      const target = names[i];
      const key = `${source.toLowerCase()}\u0000${target.toLowerCase()}`;
      if (!relationships.has(key)) {
        relationships.set(key, { source, target, description: `${source} appears together with ${target}`, strength: strengthOf(source, target) });
      }
    }
  }
  return { entities: [...entities.values()], relationships: [...relationships.values()] };
}

/** What the simulator answers to a completion that asks for no JSON. */
export function plainAnswerFor(provider: string, userText: string): string {
  return `[${provider} simulator] ${userText}`;
}
