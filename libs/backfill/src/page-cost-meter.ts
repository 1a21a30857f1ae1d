import type { ProviderId } from '#libs/common';
import { costMicroUsd, type UsageSettings } from '#libs/config';
import { chunksOf, type ExtractableRecord, recordText } from '#libs/graphrag';
import { estimateTokens, type Spend } from '#libs/usage';

/**
 * A running backfill's estimate of a page's cost, held against its tenant's budget before the page
 * starts. It starts from the same rule as the estimate API (characters / ESTIMATE_CHARS_PER_TOKEN plus
 * the prompt per chunk, output by the workspace's history or ESTIMATE_OUTPUT_RATIO) and corrects itself
 * with every committed page: input scaled by actual / estimated input so far, output by the actual
 * output / input ratio so far.
 */
export class PageCostMeter {
  private estimatedInput = 0;
  private actualInput = 0;
  private actualOutput = 0;

  constructor(
    private readonly provider: ProviderId,
    private readonly model: string,
    private readonly settings: UsageSettings,
    private readonly initialOutputRatio: number,
  ) {}

  /** The page's estimated spend (micro-USD and tokens) and its raw input estimate, for `observe`. */
  estimate(records: readonly ExtractableRecord[]): { spend: Spend; rawInput: number } {
    let characters = 0;
    let calls = 0;
    for (const record of records) {
      const text = recordText(record);
      characters += text.length;
      for (const _chunk of chunksOf(text)) calls++;
    }
    const raw = estimateTokens({
      characters,
      calls,
      provider: this.provider,
      model: this.model,
      charsPerToken: this.settings.charsPerToken,
      outputRatio: 0,
      prices: this.settings.prices,
    });
    const rawInput = raw.estimatedInputTokens;
    const scale = this.estimatedInput > 0 && this.actualInput > 0 ? this.actualInput / this.estimatedInput : 1;
    const ratio = this.actualInput > 0 ? this.actualOutput / this.actualInput : this.initialOutputRatio;
    const input = Math.ceil(rawInput * scale);
    const output = Math.ceil(input * ratio);
    const microUsd = costMicroUsd(this.settings.prices, this.provider, this.model, input, output);
    return { spend: { microUsd: BigInt(microUsd), tokens: BigInt(input + output) }, rawInput };
  }

  /** A committed page's raw input estimate and what the provider actually reported for it. */
  observe(rawInput: number, inputTokens: number, outputTokens: number): void {
    this.estimatedInput += rawInput;
    this.actualInput += inputTokens;
    this.actualOutput += outputTokens;
  }
}
