// The cross-host compute harness, shared by the Chromium page and the
// workerd worker of tests/crosshost_*_test.go. It boots the js keeper
// (wasmclient/js, keeper.wasm with Go's wasm_exec.js loaded first), fetches
// the job list and the programs from the Go test's server on 127.0.0.1,
// runs every job on every compute engine this host allows
// (lightkeeper.computeRun) and the timing workloads, and returns
// everything as one JSON-able object. The Go test compares the results
// with native wazero byte for byte.

// bootKeeper starts keeper.wasm (a WebAssembly.Module, or a Response for
// instantiateStreaming) and resolves with globalThis.lightkeeper.
export async function bootKeeper(source) {
  const ready = new Promise((r) => (globalThis.lightkeeperReady = r));
  const go = new globalThis.Go();
  let instance;
  if (source instanceof WebAssembly.Module) {
    instance = await WebAssembly.instantiate(source, go.importObject);
  } else {
    ({ instance } = await WebAssembly.instantiateStreaming(source, go.importObject));
  }
  go.run(instance); // resolves only if the program exits
  return await ready;
}

function fromBase64(s) {
  const bin = atob(s || '');
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function toBase64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return btoa(s);
}

async function fetchOK(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return res;
}

// runSpec runs the jobs of base + '/crosshost/spec.json', then the timing
// workloads of base + '/crosshost/bench.json'.
export async function runSpec(lk, base, log = () => {}) {
  const t0 = performance.now();
  const spec = await (await fetchOK(base + '/crosshost/spec.json')).json();
  const modules = {};
  for (const [name, path] of Object.entries(spec.programs)) {
    modules[name] = new Uint8Array(await (await fetchOK(base + path)).arrayBuffer());
  }
  const engines = lk.computeEngines();
  const out = {
    engines: { platform: engines.platform, interpreter: engines.interpreter, default: engines.default },
    results: [],
    bench: [],
  };
  const usable = spec.engines.filter((e) => engines[e] === '');
  const run = async (job, engine, reps) => {
    const input = fromBase64(job.input);
    const r = await lk.computeRun(modules[job.program], job.limits || '', input, job.fuel, job.seed, engine, reps);
    return {
      job: job.name, engine, resultHash: r.resultHash, outputHash: r.outputHash, fuelUsed: r.fuelUsed,
      exitCode: r.exitCode, trap: r.trap, output: toBase64(r.output.subarray(0, 256)), ms: r.ms, checkMs: r.checkMs,
    };
  };
  for (const engine of usable) {
    for (const job of spec.jobs) {
      try {
        out.results.push(await run(job, engine, 1));
      } catch (e) {
        out.results.push({ job: job.name, engine, error: String((e && e.message) || e) });
      }
    }
    log(`${engine}: ${spec.jobs.length} jobs done`);
  }
  // The timing workloads: the server answers once its own native runs
  // are over, so that nothing else competes for the CPU meanwhile.
  const bench = await (await fetchOK(base + '/crosshost/bench.json')).json();
  for (const b of bench) {
    for (const engine of b.engines) {
      if (engines[engine.replace('-unmetered', '')] !== '') continue;
      try {
        // Warm-up runs first: V8 tiers hot code up as it runs.
        for (let i = 0; i < (b.warmup || 0); i++) await run(b, engine, 1);
        out.bench.push(await run(b, engine, b.reps));
      } catch (e) {
        out.bench.push({ job: b.name, engine, error: String((e && e.message) || e) });
      }
    }
    log(`bench ${b.name} done`);
  }
  out.totalMs = performance.now() - t0;
  return out;
}
