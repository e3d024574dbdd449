// A stand-in for Cloudflare's cron scheduler, for workerd on a developer's
// machine and for the tests: each POST /scheduled fires the keeper
// worker's scheduled() handler once, through a service binding, and
// answers with its outcome once the event is over. (wrangler dev has its
// own /__scheduled; plain workerd has no scheduler.)
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname !== '/scheduled' || request.method !== 'POST') {
      return new Response('POST /scheduled fires the keeper\'s scheduled event\n', { status: 404 });
    }
    const started = Date.now();
    try {
      const res = await env.KEEPER.scheduled({ cron: url.searchParams.get('cron') || '* * * * *', scheduledTime: new Date() });
      return Response.json({ outcome: res.outcome, noRetry: res.noRetry, ms: Date.now() - started });
    } catch (e) {
      return Response.json({ outcome: 'exception', error: String((e && e.stack) || e), ms: Date.now() - started }, { status: 500 });
    }
  },
};
