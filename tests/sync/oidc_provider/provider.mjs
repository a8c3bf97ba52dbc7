// A real OpenID provider for the sign-in tests: the certified `oidc-provider` package on loopback.
// Listens on 127.0.0.1 (any free port), prints "ISSUER <url>", then reads one JSON line from
// stdin: {"redirect_uri": ..., "client_secret": ..., "id_token_ttl": seconds}; prints "READY".
// Accounts: the login name picks one (any password is accepted by the dev interactions).
import http from 'node:http';
import readline from 'node:readline';
import Provider from 'oidc-provider';

const ACCOUNTS = {
  alice: { email: 'alice@example.org', email_verified: true, name: 'Alice Liddell',
           preferred_username: 'alice', photodesk_quota: 5 },
  bob: { email: 'bob@example.org', email_verified: false, name: 'Bob', preferred_username: 'bob' },
  carol: { email: 'carol@example.org', email_verified: true, name: 'Carol',
           preferred_username: 'carol', photodesk_quota: '750 MB' },
};

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  console.log(`ISSUER ${issuer}`);
  const rl = readline.createInterface({ input: process.stdin });
  rl.once('line', (line) => {
    const cfg = JSON.parse(line);
    const provider = new Provider(issuer, {
      clients: [{
        client_id: 'photodesk',
        client_secret: cfg.client_secret,
        redirect_uris: [cfg.redirect_uri],
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
      }],
      pkce: { required: () => true },
      claims: {
        openid: ['sub'],
        email: ['email', 'email_verified'],
        profile: ['name', 'preferred_username', 'photodesk_quota'],
      },
      features: { devInteractions: { enabled: true } },
      cookies: { keys: ['photodesk-test-cookie-key'] },
      ttl: { IdToken: cfg.id_token_ttl || 3600 },
      async findAccount(ctx, id) {
        const claims = ACCOUNTS[id];
        if (!claims) return undefined;
        return { accountId: id, async claims() { return { sub: id, ...claims }; } };
      },
    });
    server.on('request', provider.callback());
    console.log('READY');
  });
});
process.stdin.on('end', () => process.exit(0));
