/** Graphs written straight to the database, for the dashboard's browser tests and bench:dashboard (free of Jest). */
import { randomUUID } from 'node:crypto';
import type { PrismaService } from '#libs/database';

/**
 * A synthetic graph of `count` entities of six types in communities of 25 chained together, plus
 * long-range links (about 1.5 relationships per entity), written straight to the database.
 * @returns how many relationships were written
 */
export async function seedSyntheticGraph(prisma: PrismaService, workspaceId: string, count: number): Promise<number> {
  const types = ['person', 'organization', 'location', 'product', 'event', 'topic'];
  const ids = Array.from({ length: count }, () => randomUUID());
  await prisma.entity.createMany({
    data: ids.map((id, i) => ({
      id,
      workspaceId,
      name: `Entity ${String(i).padStart(4, '0')}`,
      normalizedName: `entity ${String(i).padStart(4, '0')}`,
      type: types[i % types.length],
      description: `Synthetic entity ${i}`,
    })),
  });
  const pairs = new Set<string>();
  for (let i = 0; i < count; i++) {
    if (i % 25 !== 0) pairs.add(`${i - 1}:${i}`);
    if (i % 2 === 0) pairs.add(`${i}:${(i * 7919 + 13) % count}`);
  }
  const relationships = [...pairs]
    .map((p) => p.split(':').map(Number))
    .filter(([a, b]) => a !== b)
    .map(([a, b]) => ({
      id: randomUUID(),
      workspaceId,
      sourceEntityId: ids[a],
      targetEntityId: ids[b],
      description: 'linked',
      strength: 1 + ((a + b) % 10),
    }));
  await prisma.relationship.createMany({ data: relationships, skipDuplicates: true });
  return prisma.relationship.count({ where: { workspaceId } });
}

/** What seedMailboxGraph wrote. */
export interface MailboxGraph {
  entities: number;
  relationships: number;
  /** Entities without any relationship (most of the email addresses). */
  isolated: number;
  /** Communities seeded: an organization each, with its people and topics. */
  communities: number;
}

/**
 * A graph shaped like one extracted from a mailbox, written straight to the database: communities of
 * about 20 (an organization "Org NN", people "Person NN-k" who work there and know the next one,
 * topics "Topic NN-k"), the organizations linked in a ring, and a quarter of the entities email
 * addresses ("user-N@mail.example.test"), most of them linked to nothing, a fifth to a person.
 * Deterministic: the same count gives the same names, types and links.
 */
export async function seedMailboxGraph(prisma: PrismaService, workspaceId: string, count: number): Promise<MailboxGraph> {
  const emails = Math.round(count * 0.25);
  const communities = Math.max(1, Math.round((count - emails) / 20));
  const entities: { id: string; name: string; type: string }[] = [];
  const add = (name: string, type: string) => {
    entities.push({ id: randomUUID(), name, type });
    return entities.length - 1;
  };
  const hubs: number[] = [];
  const people: number[][] = [];
  const pairs: [number, number, number][] = [];
  for (let c = 0; c < communities && entities.length < count - emails; c++) {
    const tag = String(c).padStart(2, '0');
    const hub = add(`Org ${tag}`, 'organization');
    hubs.push(hub);
    people.push([]);
    for (let k = 0; k < 19 && entities.length < count - emails; k++) {
      if (k % 5 === 4) {
        const topic = add(`Topic ${tag}-${k}`, 'topic');
        pairs.push([topic, hub, 3], [topic, people[c][people[c].length - 1] ?? hub, 2]);
      } else {
        const person = add(`Person ${tag}-${k}`, 'person');
        pairs.push([person, hub, 6 + (k % 4)]);
        const previous = people[c][people[c].length - 1];
        if (previous !== undefined) pairs.push([previous, person, 4]);
        people[c].push(person);
      }
    }
  }
  hubs.forEach((hub, c) => {
    if (hubs.length > 1) pairs.push([hub, hubs[(c + 1) % hubs.length], 5]);
  });
  while (entities.length < count) {
    const n = entities.length;
    const email = add(`user-${n}@mail.example.test`, 'email');
    const owners = people[n % people.length];
    if (n % 5 === 0 && owners.length > 0) {
      pairs.push([email, owners[n % owners.length], 1]);
    }
  }
  await prisma.entity.createMany({
    data: entities.map((e) => ({
      ...e,
      workspaceId,
      normalizedName: e.name.toLowerCase(),
      description: `An entity of type ${e.type} from the mailbox`,
    })),
  });
  const relationships = pairs
    .filter(([a, b]) => a !== b)
    .map(([a, b, strength]) => ({
      id: randomUUID(),
      workspaceId,
      sourceEntityId: entities[a].id,
      targetEntityId: entities[b].id,
      description: 'linked',
      strength,
    }));
  await prisma.relationship.createMany({ data: relationships, skipDuplicates: true });
  const linked = new Set(pairs.flatMap(([a, b]) => [a, b]));
  return {
    entities: entities.length,
    relationships: await prisma.relationship.count({ where: { workspaceId } }),
    isolated: entities.length - linked.size,
    communities: hubs.length,
  };
}
