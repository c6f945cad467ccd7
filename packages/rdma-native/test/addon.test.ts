import { expect } from 'chai';
import { loadAddon } from '../src/index.js';

describe('rdma-native addon', () => {
  it('loads and names its providers', () => {
    expect(loadAddon().providers).to.equal('tcp');
  });
});
