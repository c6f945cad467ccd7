/** A configuration with problems: lists all of them, each naming the key (or flag) at fault. */

export interface ConfigIssue {
  /** `config.multicast.windowSize`, `--port (config.node.port)`, `DERECHO_NODE_ID (config.node.id)`... */
  readonly path: string;
  readonly message: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly issues: readonly ConfigIssue[],
    /** The file the configuration came from, if any. */
    readonly source?: string,
  ) {
    const where = source === undefined ? '' : ` in ${source}`;
    super(
      issues.length === 1
        ? `invalid configuration${where}: ${issues[0].path}: ${issues[0].message}`
        : `invalid configuration${where} (${issues.length} problems):\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`,
    );
  }
}
