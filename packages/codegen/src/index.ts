export { generate, writeOutputs, DEFAULT_LOCK_FILE, DEFAULT_OUT_FILE, type GenerateOptions, type GenerateResult, type GeneratedOutput } from './generate.js';
export { runCli, type CliIo } from './cli.js';
export { discover, derechoDecoratorOf, Locator, RUNTIME_MODULE, type Discovery, type DiscoveredClass, type DiscoveredMethod } from './discover.js';
export { buildModel } from './model.js';
export { validateModel } from './validate.js';
export { assignIds, parseLock, serializeLock, kindOf, EMPTY_LOCK, type SchemaLock, type LockClass, type LockMethod, type LockRetired, type MethodKind, type IdAssignment } from './lock.js';
export { emitGenerated, type EmitInput } from './emit.js';
export { methodSignature, typeKey } from './signature.js';
export { formatError, formatLocation, compareErrors, type CodegenError, type SourceLocation, type TypeNode, type PropertyNode, type ClassModel, type MethodModel, type ParameterModel, type ProjectModel, type NamedTypeModel, type WireClassModel } from './ir.js';
