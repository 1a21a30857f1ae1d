/** One fenced `bash` block of the README's walk-through. */
export interface WalkthroughBlock {
  /** The block as bash runs it (ports replaced). */
  script: string;
  /** Its command lines, continuation lines joined, comments left out. */
  commands: string[];
  /** The `# -> ...` answers written under its commands (a `#     ...` line continues the one above). */
  answers: string[];
}

const SECTION = '## Walk-through';

/** Inline code of the walk-through's prose that quotes a program's output (`[start] ...`), ports replaced. */
export function quotedOutput(readme: string, ports: Record<string, number>): string[] {
  const section = walkthroughSection(readme);
  return [...section.matchAll(/`(\[start\][^`]*)`/g)].map(([, quote]) => quote.replace(portPattern(ports), (port) => String(ports[port])));
}

function walkthroughSection(readme: string): string {
  const start = readme.indexOf(SECTION);
  if (start < 0) throw new Error(`the README has no "${SECTION}" section`);
  const end = readme.indexOf('\n## ', start + SECTION.length);
  return readme.slice(start, end < 0 ? undefined : end);
}

function portPattern(ports: Record<string, number>): RegExp {
  return new RegExp(
    `\\b(${Object.keys(ports)
      .filter((k) => /^\d+$/.test(k))
      .join('|')})\\b`,
    'g',
  );
}

/**
 * The fenced `bash` blocks of the README's walk-through section, in order, with each of the
 * README's ports (keys of `ports`, e.g. "3000") replaced by the port given for it.
 */
export function readmeWalkthrough(readme: string, ports: Record<string, number>): WalkthroughBlock[] {
  const section = walkthroughSection(readme);
  const pattern = portPattern(ports);
  return [...section.matchAll(/^```bash\n([\s\S]*?)^```$/gm)].map(([, body]) => {
    const script = body.replace(pattern, (port) => String(ports[port]));
    const lines = script.split('\n');
    return {
      script,
      commands: lines
        .join('\n')
        .replace(/\\\n\s*/g, ' ')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#')),
      answers: answersOf(lines),
    };
  });
}

function answersOf(lines: string[]): string[] {
  const answers: string[] = [];
  for (const line of lines) {
    if (line.startsWith('# -> ')) answers.push(line.slice('# -> '.length).trim());
    else if (/^# {4,}\S/.test(line) && answers.length) answers[answers.length - 1] += line.slice(1).trim();
  }
  return answers;
}
