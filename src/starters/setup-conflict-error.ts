/** A search attribute of ours that the namespace already has under another type. */

/** One name registered with another type than ours. */
export interface SearchAttributeConflict {
  name: string;
  /** The type this project needs, e.g. `Keyword`. */
  wanted: string;
  /** The type the namespace has, e.g. `Text`. */
  registered: string;
}

/**
 * `rdd setup` found search attributes of ours registered with other types; it changed nothing. A
 * type cannot be changed in place: remove the attribute (`temporal operator search-attribute
 * remove --name …`; on SQL visibility the values it held are lost) or use another namespace.
 * @example throw new SearchAttributeConflictError('rdd', [{ name: 'DetectionScore', wanted: 'Double', registered: 'Keyword' }])
 */
export class SearchAttributeConflictError extends Error {
  override name = 'SearchAttributeConflictError';
  readonly namespace: string;
  readonly conflicts: readonly SearchAttributeConflict[];
  constructor(namespace: string, conflicts: readonly SearchAttributeConflict[]) {
    super(
      `namespace ${namespace} already has ${conflicts
        .map((c) => `${c.name} as ${c.registered} (rdd needs ${c.wanted})`)
        .join(', ')}; nothing was changed. Remove ${conflicts.length === 1 ? 'it' : 'them'} ` +
        `(temporal operator search-attribute remove --namespace ${namespace} --name <name>) or use ` +
        `another namespace`,
    );
    this.namespace = namespace;
    this.conflicts = conflicts;
  }
}
