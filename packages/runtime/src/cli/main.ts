#!/usr/bin/env node
console.log('derecho: CLI not yet implemented');
