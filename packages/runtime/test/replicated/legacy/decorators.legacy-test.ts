// Legacy mode keeps decorator marks with reflect-metadata, which the application loads first.
import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { Ordered, P2P, Replicated } from '@derecho-ts/runtime';
import { getReplicatedMetadata, isReplicatedClass } from '@derecho-ts/runtime/internals';

describe('replicated decorators (legacy experimentalDecorators mode)', () => {
  it('runs in legacy mode (a class decorator gets the constructor alone)', () => {
    let args: unknown[] = [];
    const spy = (...a: unknown[]): void => {
      args = a;
    };
    @(spy as ClassDecorator)
    class C {}
    expect(args).to.deep.equal([C]);
  });

  @Replicated()
  class Foo {
    state = 0;
    @P2P() @Ordered() readState(): number {
      return this.state;
    }
    @Ordered() changeState(next: number): boolean {
      const changed = next !== this.state;
      this.state = next;
      return changed;
    }
    undecorated(): void {}
  }

  it('records the class name and its ordered and p2p methods, like standard mode', () => {
    expect(getReplicatedMetadata(Foo)).to.deep.equal({ name: 'Foo', ordered: ['changeState', 'readState'], p2p: ['readState'], dialect: 'legacy' });
    expect(isReplicatedClass(Foo)).to.equal(true);
    const foo = new Foo();
    expect(foo.changeState(2)).to.equal(true);
    expect(foo.readState()).to.equal(2);
  });

  it('keeps the method marks in reflect-metadata on the prototype', () => {
    const marks = Reflect.getOwnMetadata('derecho-ts:replicated-methods', Foo.prototype) as unknown[];
    expect(marks).to.deep.include.members([
      { name: 'readState', kind: 'ordered' },
      { name: 'readState', kind: 'p2p' },
      { name: 'changeState', kind: 'ordered' },
    ]);
  });

  it('takes @Replicated({ name }) and includes a replicated superclass’s methods', () => {
    @Replicated()
    class Base {
      @Ordered() put(_key: string): void {}
    }
    @Replicated({ name: 'Store' })
    class Derived extends Base {
      @P2P() get(key: string): string {
        return key;
      }
    }
    expect(getReplicatedMetadata(Derived)).to.deep.equal({ name: 'Store', ordered: ['put'], p2p: ['get'], dialect: 'legacy' });
  });

  it('refuses a method decorator on a property, an accessor or a static method', () => {
    expect(() => {
      class C {
        // @ts-ignore (standard-mode type check: a field is not a method)
        @Ordered() count = 1;
      }
      return C;
    }).to.throw(TypeError, "@Ordered() decorates methods, but was applied to the property 'count'");
    expect(() => {
      class C {
        // @ts-ignore (standard-mode type check: a getter is not a method)
        @P2P() get size(): number {
          return 1;
        }
      }
      return C;
    }).to.throw(TypeError, "@P2P() decorates methods, but was applied to the accessor 'size'");
    expect(() => {
      class C {
        @Ordered() static make(): void {}
      }
      return C;
    }).to.throw(TypeError, "@Ordered() decorates instance methods, but 'make' is static");
  });

  it('refuses decorators used without parentheses', () => {
    expect(() => {
      // @ts-ignore (a decorator factory used as a decorator)
      @Replicated
      class C {}
      return C;
    }).to.throw(TypeError, '@Replicated() takes an options object or nothing, got the function C; write @Replicated() with parentheses');
    expect(() => {
      class C {
        // @ts-ignore (a decorator factory used as a decorator)
        @Ordered put(): void {}
      }
      return C;
    }).to.throw(TypeError, '@Ordered is a decorator factory: write @Ordered() with parentheses');
  });

  it('explains a class with marked methods but no @Replicated()', () => {
    class Forgotten {
      @Ordered() put(): void {}
    }
    expect(() => getReplicatedMetadata(Forgotten)).to.throw(
      TypeError,
      'the class Forgotten has @Ordered() put but is not decorated with @Replicated(); add @Replicated() to the class',
    );
  });

  it('asks for reflect-metadata when a legacy-mode app has not loaded it', () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const child = spawnSync(process.execPath, ['--conditions=@derecho-ts/source', '--import', 'tsx', join(here, 'without-reflect-metadata.fixture.ts')], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, TSX_TSCONFIG_PATH: join(here, 'tsconfig.json') },
    });
    expect(child.stdout.trim()).to.equal(
      "@Ordered() is running as a legacy (experimentalDecorators) decorator, which keeps its marks with reflect-metadata: install it and add `import 'reflect-metadata'` before any decorated class loads",
    );
  });
});
