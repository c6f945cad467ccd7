import { expect } from 'chai';
import { LayoutSpecError, SubgroupAllocator, bindLayoutTypes, layoutFromJson, parseLayoutJson, resolveGroupLayout, shards } from '../../src/layout/index.js';

function issuesOf(value: unknown): string[] {
  return parseLayoutJson(value, 'config.layout').issues.map((i) => `${i.path}: ${i.message}`);
}

describe('layout: JSON layouts', () => {
  it("parses Derecho's sample layout (json_cfgs/layout.json shape, numbers as strings)", () => {
    const layout = layoutFromJson(
      JSON.parse(`[
        { "type_alias": "Foo", "layout": [ { "min_nodes_by_shard": ["1"], "max_nodes_by_shard": ["1"],
            "delivery_modes_by_shard": ["Ordered"], "profiles_by_shard": ["VCS"] } ] },
        { "type_alias": "Bar", "layout": [ { "min_nodes_by_shard": ["1"], "max_nodes_by_shard": ["1"],
            "delivery_modes_by_shard": ["Ordered"], "profiles_by_shard": ["DEFAULT"] } ] } ]`),
    );
    expect(layout).to.deep.equal([
      { type: 'Foo', layout: { kind: 'sharded', subgroups: [{ shards: [{ minNodes: 1, maxNodes: 1, mode: 'ordered', profile: 'VCS', reservedNodeIds: [], reservedSenderIds: [] }] }] } },
      { type: 'Bar', layout: { kind: 'sharded', subgroups: [{ shards: [{ minNodes: 1, maxNodes: 1, mode: 'ordered', profile: 'default', reservedNodeIds: [], reservedSenderIds: [] }] }] } },
    ]);
  });

  it('accepts camelCase keys, plain numbers, Raw/Persistent modes, several subgroups and shards', () => {
    const layout = layoutFromJson([
      {
        typeAlias: 'KV',
        layout: [
          { minNodesByShard: [2, 1], maxNodesByShard: [3, 1], deliveryModesByShard: ['persistent', 'Raw'], reservedNodeIdsByShard: [[1, '*2'], []] },
          { minNodesByShard: ['1'] },
        ],
      },
    ]);
    expect(layout[0].layout).to.deep.equal({
      kind: 'sharded',
      subgroups: [
        {
          shards: [
            { minNodes: 2, maxNodes: 3, mode: 'persistent', profile: 'default', reservedNodeIds: [1, 2], reservedSenderIds: [2] },
            { minNodes: 1, maxNodes: 1, mode: 'unordered', profile: 'default', reservedNodeIds: [], reservedSenderIds: [] },
          ],
        },
        { shards: [{ minNodes: 1, maxNodes: 1, mode: 'ordered', profile: 'default', reservedNodeIds: [], reservedSenderIds: [] }] },
      ],
    });
  });

  it('accepts crossProduct and wholeView entries', () => {
    const layout = layoutFromJson([
      { type_alias: 'A', layout: [{ min_nodes_by_shard: [2] }] },
      { type_alias: 'All', wholeView: true },
      { type_alias: 'X', crossProduct: { source: { type: 'A', index: 0 }, target: { type: 'A' }, mode: 'Raw' } },
    ]);
    expect(layout[1].layout).to.deep.equal({ kind: 'wholeView', mode: 'ordered', profile: 'default' });
    expect(layout[2].layout).to.deep.equal({ kind: 'crossProduct', source: { type: 'A', index: 0 }, target: { type: 'A', index: 0 }, mode: 'unordered', profile: 'default' });
    const allocation = new SubgroupAllocator(layout).allocate([7, 8]);
    expect(allocation.types[2].subgroups.map((sg) => sg[0].members)).to.deep.equal([[7, 8], [8, 7]]);
  });

  it('reports shape errors with the JSON path, unknown keys with a suggestion', () => {
    expect(issuesOf({})).to.deep.equal(['config.layout: expected an array with one entry per replicated type, got {}']);
    expect(
      issuesOf([
        { type_alias: 'Foo', layout: [{ min_nodes_by_shard: ['2', 'x'], max_nodes_by_shards: ['3'], delivery_modes_by_shard: ['Ordered', 'Total'], profiles_by_shard: ['A'] }] },
        { typeAlias: 'Bar', type_alias: 'Baz', layouts: [] },
        { layout: [{ minNodesByShard: [1], reserved_node_ids_by_shard: [['*', '-1', 3.5]] }], crossProduct: {} },
        5,
      ]),
    ).to.deep.equal([
      'config.layout[0].layout[0].max_nodes_by_shards: unknown key (did you mean "max_nodes_by_shard"?)',
      'config.layout[0].layout[0].profiles_by_shard: has 1 entries but min_nodes_by_shard has 2; every per-shard list needs one entry per shard',
      'config.layout[0].layout[0].min_nodes_by_shard[1]: expected a positive integer (or a string of digits), got "x"',
      'config.layout[0].layout[0].delivery_modes_by_shard[1]: expected "Ordered", "Raw", "Unordered" or "Persistent", got "Total"',
      'config.layout[1].type_alias: given twice (as "typeAlias" and "type_alias")',
      'config.layout[1].layouts: unknown key (did you mean "layout"?)',
      'config.layout[1]: expected "layout" (an array of subgroups), "crossProduct" or "wholeView"',
      'config.layout[2]: give only one of "layout", "crossProduct"',
      'config.layout[3]: expected an object with "layout" (or "crossProduct" / "wholeView"), got 5',
    ]);
    expect(issuesOf([{ layout: [{ max_nodes_by_shard: [1] }] }])).to.deep.equal(['config.layout[0].layout[0].min_nodes_by_shard: required (one entry per shard)']);
    expect(issuesOf([{ layout: [{ min_nodes_by_shard: [1], reserved_node_ids_by_shard: [['*', '-1', 3.5, 4294967296]] }] }])).to.deep.equal([
      'config.layout[0].layout[0].reserved_node_ids_by_shard[0][0]: expected a node id (an integer from 0 to 4294967295, "*" in front for a sender), got "*"',
      'config.layout[0].layout[0].reserved_node_ids_by_shard[0][1]: expected a node id (an integer from 0 to 4294967295, "*" in front for a sender), got "-1"',
      'config.layout[0].layout[0].reserved_node_ids_by_shard[0][2]: expected a node id (an integer from 0 to 4294967295, "*" in front for a sender), got 3.5',
      'config.layout[0].layout[0].reserved_node_ids_by_shard[0][3]: expected a node id (an integer from 0 to 4294967295, "*" in front for a sender), got 4294967296',
    ]);
  });

  it('reports semantic errors at the JSON key the user wrote', () => {
    expect(
      issuesOf([
        { type_alias: 'A', layout: [{ min_nodes_by_shard: ['3', '1'], max_nodes_by_shard: ['2', '1'], reserved_node_ids_by_shard: [['1', '*2'], ['2']] }] },
        { type_alias: 'B', layout: [{ minNodesByShard: [1], reservedNodeIdsByShard: [['7', '*7']] }] },
        { type_alias: 'X', crossProduct: { source: { type: 'C', index: 0 }, target: { type: 'A', index: 1 } } },
      ]),
    ).to.deep.equal([
      'config.layout[0].layout[0].max_nodes_by_shard[0]: must be ≥ minNodes (3), got 2',
      'config.layout[0].layout[0].reserved_node_ids_by_shard[1][0]: node id 2 is also reserved by shard 0 of the same subgroup; a node can be in only one shard of a subgroup',
      'config.layout[1].layout[0].reservedNodeIdsByShard[0][1]: node id 7 is listed twice',
      'config.layout[2].crossProduct.source.type: no type "C" in this layout (types: "A", "B", "X")',
      'config.layout[2].crossProduct.target.index: type "A" has 1 subgroup, so index 1 is out of range',
    ]);
    expect(() => layoutFromJson([{ layout: [{ min_nodes_by_shard: [0] }] }])).to.throw(
      LayoutSpecError,
      'invalid subgroup layout: layout[0].layout[0].min_nodes_by_shard[0]: expected a positive integer (or a string of digits), got 0',
    );
  });

  it('binds entries to the group types by alias when all match, else by position', () => {
    const parsed = parseLayoutJson([
      { type_alias: 'Bar', layout: [{ min_nodes_by_shard: [1] }] },
      { type_alias: 'Foo', layout: [{ min_nodes_by_shard: [2] }] },
    ]);
    expect(bindLayoutTypes(parsed, ['Foo', 'Bar']).map((e) => [e.type, e.layout.kind === 'sharded' && e.layout.subgroups[0].shards[0].minNodes])).to.deep.equal([
      ['Foo', 2],
      ['Bar', 1],
    ]);
    // Aliases that do not name the types: Derecho's positional rule; cross-product refs follow.
    const positional = layoutFromJson(
      [{ layout: [{ min_nodes_by_shard: [1] }] }, { type_alias: 'Src', layout: [{ min_nodes_by_shard: [1] }] }, { crossProduct: { source: { type: 'Src' }, target: { type: 'Src' } } }],
      ['KV', 'Log', 'Fan'],
    );
    expect(positional.map((e) => e.type)).to.deep.equal(['KV', 'Log', 'Fan']);
    expect(positional[2].layout).to.include({ kind: 'crossProduct' });
    expect((positional[2].layout as { source: unknown }).source).to.deep.equal({ type: 'Log', index: 0 });
    expect(() => layoutFromJson([{ layout: [{ min_nodes_by_shard: [1] }] }], ['KV', 'Log'])).to.throw(
      LayoutSpecError,
      "invalid subgroup layout: layout: has 1 entry but the group has 2 replicated types (KV, Log); give one entry per type, in the group's order, or a type_alias naming each type",
    );
  });
});

describe('layout: choosing the group layout', () => {
  it('the config layout wins over the code layouts and is bound to the program types', () => {
    const fromConfig = layoutFromJson([{ layout: [{ min_nodes_by_shard: [2] }] }, { type_alias: 'Log', wholeView: true }]);
    const layout = resolveGroupLayout([{ type: 'KV', layout: shards({ minNodes: 1 }) }, { type: 'Log' }], fromConfig);
    expect(layout.map((e) => [e.type, e.layout.kind])).to.deep.equal([
      ['KV', 'sharded'],
      ['Log', 'wholeView'],
    ]);
    expect(resolveGroupLayout([{ type: 'KV', layout: shards({ minNodes: 1 }) }])).to.deep.equal([{ type: 'KV', layout: shards({ minNodes: 1 }) }]);
  });

  it('without a config layout every type needs one in code', () => {
    expect(() => resolveGroupLayout([{ type: 'KV', layout: shards({ minNodes: 1 }) }, { type: 'Log' }])).to.throw(
      LayoutSpecError,
      'invalid subgroup layout: subgroups[1] (Log).layout: no layout given in code, and the configuration has none; give one, e.g. layout: shards({ minNodes: 1 })',
    );
    expect(() => resolveGroupLayout([{ type: 'KV' }], layoutFromJson([{ layout: [{ min_nodes_by_shard: [1] }] }, { layout: [{ min_nodes_by_shard: [1] }] }]))).to.throw(
      LayoutSpecError,
      'config.layout: has 2 entries but the group has 1 replicated type (KV)',
    );
  });
});
