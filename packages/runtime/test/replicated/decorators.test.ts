import { expect } from 'chai';
import { Ordered, P2P, Replicated } from '@derecho-ts/runtime';
import { getReplicatedMetadata, isReplicatedClass } from '@derecho-ts/runtime/internals';

describe('replicated decorators (TC39 standard mode)', () => {
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

  it('records the class name and its ordered and p2p methods (a method may be both)', () => {
    expect(getReplicatedMetadata(Foo)).to.deep.equal({ name: 'Foo', ordered: ['changeState', 'readState'], p2p: ['readState'], dialect: 'standard' });
    expect(isReplicatedClass(Foo)).to.equal(true);
  });

  it('leaves the methods themselves untouched', () => {
    const foo = new Foo();
    expect(foo.changeState(3)).to.equal(true);
    expect(foo.changeState(3)).to.equal(false);
    expect(foo.readState()).to.equal(3);
  });

  it('takes a wire name from @Replicated({ name })', () => {
    @Replicated({ name: 'Cache' })
    class MinifiedName {
      @P2P() get(key: string): string {
        return key;
      }
    }
    expect(getReplicatedMetadata(MinifiedName)).to.deep.include({ name: 'Cache', ordered: [], p2p: ['get'] });
  });

  it('includes methods marked in a replicated superclass', () => {
    @Replicated()
    class Base {
      @Ordered() put(_key: string): void {}
    }
    @Replicated()
    class Derived extends Base {
      @P2P() get(key: string): string {
        return key;
      }
    }
    expect(getReplicatedMetadata(Derived)).to.deep.include({ name: 'Derived', ordered: ['put'], p2p: ['get'] });
    expect(getReplicatedMetadata(Base)).to.deep.include({ ordered: ['put'], p2p: [] });
  });

  it('refuses a method decorator on a field, a getter or a static method', () => {
    expect(() => {
      class C {
        // @ts-expect-error a field is not a method
        @Ordered() count = 1;
      }
      return C;
    }).to.throw(TypeError, "@Ordered() decorates methods, but was applied to the field 'count'");
    expect(() => {
      class C {
        // @ts-expect-error a getter is not a method
        @P2P() get size(): number {
          return 1;
        }
      }
      return C;
    }).to.throw(TypeError, "@P2P() decorates methods, but was applied to the getter 'size'");
    expect(() => {
      class C {
        @Ordered() static make(): void {}
      }
      return C;
    }).to.throw(TypeError, "@Ordered() decorates instance methods, but 'make' is static");
  });

  it('refuses the same decorator twice on one method', () => {
    expect(() => {
      class C {
        @Ordered() @Ordered() put(): void {}
      }
      return C;
    }).to.throw(TypeError, '@Ordered() is applied twice to the method put');
  });

  it('refuses @Replicated() on a method and decorators used without parentheses', () => {
    expect(() => {
      class C {
        // @ts-expect-error @Replicated decorates classes
        @Replicated() put(): void {}
      }
      return C;
    }).to.throw(TypeError, "@Replicated() decorates classes, but was applied to a method 'put'");
    expect(() => {
      class C {
        // @ts-expect-error a decorator factory used as a decorator
        @Ordered put(): void {}
      }
      return C;
    }).to.throw(TypeError, '@Ordered is a decorator factory: write @Ordered() with parentheses');
  });

  it('refuses unknown options', () => {
    // @ts-expect-error no such option
    expect(() => Replicated({ id: 3 })).to.throw(TypeError, "@Replicated() has no option 'id' (known: name)");
    expect(() => Ordered({ renamedFrom: '' })).to.throw(TypeError, '@Ordered({ renamedFrom }) expects a non-empty string, got ""');
  });

  it('explains a class with marked methods but no @Replicated()', () => {
    class Forgotten {
      @Ordered() put(): void {}
      @P2P() get(): void {}
    }
    expect(() => getReplicatedMetadata(Forgotten)).to.throw(
      TypeError,
      'the class Forgotten has @Ordered() put, @P2P() get but is not decorated with @Replicated(); add @Replicated() to the class',
    );
    expect(isReplicatedClass(Forgotten)).to.equal(false);
  });

  it('explains a plain class and a non-class', () => {
    class Plain {}
    expect(() => getReplicatedMetadata(Plain)).to.throw(TypeError, 'the class Plain is not decorated with @Replicated()');
    expect(() => getReplicatedMetadata(42 as unknown as Function)).to.throw(TypeError, 'getReplicatedMetadata expects a class, got number');
  });
});
