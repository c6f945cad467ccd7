// Run by decorators.legacy-test.ts in a child process: a legacy-mode class without reflect-metadata loaded.
import { Ordered, Replicated } from '@derecho-ts/runtime';

try {
  @Replicated()
  class Store {
    @Ordered() put(): void {}
  }
  console.log(`defined ${Store.name}`);
} catch (e) {
  console.log((e as Error).message);
}
