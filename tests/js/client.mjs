// A credit-ledger client written as a new integrator would write it: ethers v6 and the
// published signing specification (GET /signing) only. It holds no copy of any domain or
// type: it reads them from the platform at run time, builds each signed message from the
// specification's field mapping, and signs with ethers.
//
// Usage: node client.mjs '<json>' where json names api, rpc, bank_key, enterprise_key,
// subject, categories, purpose, agreement_id. Prints one JSON report on stdout; exits 1 if
// any check failed. Run by tests/integration/test_js_client.py against a real platform.

import { Contract, JsonRpcProvider, TypedDataEncoder, Wallet, ethers } from "ethers";

const input = JSON.parse(process.argv[2]);
const report = { checks: [], steps: {} };

function check(name, ok, detail) {
  report.checks.push({ name, ok: Boolean(ok), ...(ok ? {} : { detail }) });
}

async function getJson(path) {
  const response = await fetch(new URL(path, input.api));
  return { status: response.status, body: await response.json() };
}

const spec = (await getJson("/signing")).body;
const thing = (primaryType) => spec.signed.find((s) => s.primaryType === primaryType);
const domainOf = (t) => spec.domains[t.domain].domain;

// -- the one generic part: a signed message from the specification's field mapping --------

function dig(object, dotted) {
  return dotted.split(".").reduce((value, key) => value[key], object);
}

function transform(field, value) {
  switch (field.transform) {
    case "as_is":
      return field.type.startsWith("uint") ? BigInt(value) : value;
    case "decimal":
      return BigInt(value);
    case "upper":
      return value.toUpperCase();
    case "keccak256_utf8":
      return ethers.keccak256(ethers.toUtf8Bytes(value));
    case "keccak256_bytes":
      return ethers.keccak256(value);
    case "enum":
      return BigInt(field.enum[value]);
    case "raw_path_and_query":
      return value;
    default:
      throw new Error(`unknown transform ${field.transform}`);
  }
}

// context: { body, path: {param: value}, header: {name: value}, request: {method, path, body} }
function messageOf(t, context) {
  const message = {};
  for (const field of t.fields) {
    message[field.name] = transform(field, dig(context[field.from], field.field));
  }
  return message;
}

// the wire form of a value: uints as decimal strings (spec.numbers), everything else as is
function wire(t, values) {
  const body = {};
  for (const field of t.fields.filter((f) => f.from === "body")) {
    const value = values[field.field];
    body[field.field] = field.type.startsWith("uint") ? BigInt(value).toString() : value;
  }
  return body;
}

async function signBody(wallet, t, values, domain = domainOf(t)) {
  const body = wire(t, values);
  const message = messageOf(t, { body });
  body[t.signature.field] = await wallet.signTypedData(domain, t.types, message);
  return body;
}

// -- signed API requests ---------------------------------------------------------------------

const apiRequest = thing("ApiRequest");
const headerField = (name) => apiRequest.fields.find((f) => f.name === name).field;

async function signedHeaders(wallet, method, sentPath, bodyBytes, domain, timestamp, nonce) {
  const headers = {
    [headerField("timestamp")]: String(timestamp),
    [headerField("nonce")]: nonce,
  };
  const message = messageOf(apiRequest, {
    request: { method, path: sentPath, body: bodyBytes },
    header: headers,
  });
  headers[apiRequest.signature.signer_field] = wallet.address;
  headers[apiRequest.signature.field] = await wallet.signTypedData(domain, apiRequest.types, message);
  return headers;
}

async function send(wallet, method, path, body, { domain = domainOf(apiRequest) } = {}) {
  const url = new URL(path, input.api);
  const sent = url.pathname + url.search; // the path exactly as it goes on the wire
  const bytes = body === undefined ? new Uint8Array() : ethers.toUtf8Bytes(JSON.stringify(body));
  const nonce = ethers.hexlify(ethers.randomBytes(apiRequest.nonce_from.random_bytes));
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = await signedHeaders(wallet, method, sent, bytes, domain, timestamp, nonce);
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, { method, headers, body: body === undefined ? undefined : bytes });
  return { status: response.status, body: await response.json() };
}

async function nonceFor(wallet, t) {
  const from = t.nonce_from;
  const answer = await send(wallet, from.method, from.path.replace("{address}", wallet.address));
  return dig(answer.body, from.field);
}

// -- 1. the worked examples, recomputed with ethers -------------------------------------------

for (const example of spec.examples) {
  const expected = example.expected;
  if (example.primaryType === "ApiRequest") {
    const wallet = new Wallet(example.key);
    const r = example.request;
    const body = ethers.toUtf8Bytes(r.body);
    const message = messageOf(apiRequest, {
      request: { method: r.method, path: r.path, body },
      header: { [headerField("timestamp")]: String(r.timestamp), [headerField("nonce")]: r.nonce },
    });
    check(`${example.name}: bodyHash`, message.bodyHash === expected.bodyHash, message.bodyHash);
    const digest = TypedDataEncoder.hash(example.domain, apiRequest.types, message);
    check(`${example.name}: digest`, digest === expected.digest, digest);
    const headers = await signedHeaders(wallet, r.method, r.path, body, example.domain, r.timestamp, r.nonce);
    const same = Object.entries(expected.headers).every(([name, value]) => headers[name] === value);
    check(`${example.name}: headers`, same && Object.keys(headers).length === 4, headers);
  } else if (example.primaryType === "ResponseHash") {
    const hash = ethers.sha256(ethers.toUtf8Bytes(expected.canonical));
    check(`${example.name}: sha256`, hash === expected.response_hash, hash);
  } else {
    const t = thing(example.primaryType);
    const wallet = new Wallet(example.key);
    const values = { ...example.body };
    if (example.uscc !== undefined) values.uscc_hash = ethers.keccak256(ethers.toUtf8Bytes(example.uscc));
    if (expected.usccHash !== undefined) {
      check(`${example.name}: usccHash`, values.uscc_hash === expected.usccHash, values.uscc_hash);
    }
    const message = messageOf(t, { body: values });
    const digest = TypedDataEncoder.hash(example.domain, t.types, message);
    check(`${example.name}: digest`, digest === expected.digest, digest);
    const signature = await wallet.signTypedData(example.domain, t.types, message);
    check(`${example.name}: signature`, signature === expected.signature, signature);
  }
}

// -- 2. each contract's published domain is the one it reports (ERC-5267) --------------------

const provider = new JsonRpcProvider(input.rpc);
const chainId = (await provider.getNetwork()).chainId;
const erc5267 = [
  "function eip712Domain() view returns (bytes1, string, string, uint256, address, bytes32, uint256[])",
];
for (const [key, entry] of Object.entries(spec.domains)) {
  const d = entry.domain;
  check(`domain ${key}: chain id`, BigInt(d.chainId) === chainId, d.chainId);
  if (!entry.erc5267) continue;
  const [, name, version, id, verifying] = await new Contract(d.verifyingContract, erc5267, provider).eip712Domain();
  const same = name === d.name && version === d.version && id === BigInt(d.chainId) && verifying === d.verifyingContract;
  check(`domain ${key}: eip712Domain() agrees`, same, { name, version, id: String(id), verifying });
}

// -- 3. a signed read, a grant, a release with its hash checked, a revocation -----------------

const bank = new Wallet(input.bank_key);
const enterprise = new Wallet(input.enterprise_key);
const now = Math.floor(Date.now() / 1000);

const read = await send(enterprise, "GET", `/members/${enterprise.address}`);
report.steps.read = read.status;

const grantType = thing("Grant");
const grantBody = await signBody(enterprise, grantType, {
  uscc_hash: ethers.keccak256(ethers.toUtf8Bytes(input.subject)),
  institution: bank.address,
  agreement_id: 0,
  categories: input.categories,
  purposes: input.purpose,
  raw_categories: 0,
  expires_at: now + 3600,
  enterprise: enterprise.address,
  nonce: await nonceFor(enterprise, grantType),
  deadline: now + 600,
});
const grant = await send(enterprise, grantType.endpoint.method, grantType.endpoint.path, grantBody);
report.steps.grant = grant.status;
report.steps.grant_id = grant.body.created_id;

const requestType = thing("DataRequest");
async function dataRequest(domain) {
  return signBody(
    bank,
    requestType,
    {
      institution: bank.address,
      subject: input.subject,
      categories: input.categories,
      purpose: input.purpose,
      agreement_id: input.agreement_id,
      raw: false,
      nonce: ethers.hexlify(ethers.randomBytes(requestType.nonce_from.random_bytes)),
      deadline: Math.floor(Date.now() / 1000) + 120,
    },
    domain,
  );
}

async function release(body) {
  const response = await fetch(new URL(requestType.endpoint.path, input.api), {
    method: requestType.endpoint.method,
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, bytes: new Uint8Array(await response.arrayBuffer()) };
}

function lastIndexOf(haystack, needle) {
  outer: for (let i = haystack.length - needle.length; i >= 0; i--) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

const released = await release(await dataRequest());
report.steps.release = released.status;
if (released.status === 200) {
  // the response is {"data":D,"receipt":R}: D are the exact bytes the response hash covers
  const prefix = ethers.toUtf8Bytes('{"data":');
  const end = lastIndexOf(released.bytes, ethers.toUtf8Bytes(',"receipt":'));
  const data = released.bytes.slice(prefix.length, end);
  const receipt = JSON.parse(new TextDecoder().decode(released.bytes)).receipt;
  report.steps.response_hash = ethers.sha256(data) === receipt.response_hash;
  report.steps.records = JSON.parse(new TextDecoder().decode(data)).records.length;
}

const revokeType = thing("Revoke");
const revokeBody = await signBody(enterprise, revokeType, {
  grant_id: grant.body.created_id,
  enterprise: enterprise.address,
  nonce: await nonceFor(enterprise, revokeType),
  deadline: now + 600,
});
const revoke = await send(enterprise, revokeType.endpoint.method, revokeType.endpoint.path, revokeBody);
report.steps.revoke = revoke.status;
const afterRevoke = await release(await dataRequest());
report.steps.release_after_revoke = afterRevoke.status;

// -- 4. a foreign chain id is refused, and the refusal says what it was verified as -----------

const foreign = (domain) => ({ ...domain, chainId: BigInt(domain.chainId) + 1n });
const foreignRead = await send(enterprise, "GET", `/members/${enterprise.address}`, undefined, {
  domain: foreign(domainOf(apiRequest)),
});
report.steps.foreign_read = { status: foreignRead.status, detail: foreignRead.body.detail };

const foreignRelease = await release(await dataRequest(foreign(domainOf(requestType))));
report.steps.foreign_release = {
  status: foreignRelease.status,
  detail: JSON.parse(new TextDecoder().decode(foreignRelease.bytes)).detail,
};

const foreignGrant = await signBody(
  enterprise,
  grantType,
  { ...grantBody, nonce: await nonceFor(enterprise, grantType) },
  foreign(domainOf(grantType)),
);
const refusedGrant = await send(enterprise, grantType.endpoint.method, grantType.endpoint.path, foreignGrant);
report.steps.foreign_grant = { status: refusedGrant.status, detail: refusedGrant.body.detail };

// -- 5. one number encoding: a JSON integer above 2**53-1 is refused by name ------------------

const bigCategories = (BigInt(spec.numbers.max_safe_integer) + 2n).toString();
const rawJson = JSON.stringify({ ...grantBody, categories: "BIG" }).replace('"BIG"', bigCategories);
const url = new URL(grantType.endpoint.path, input.api);
const numberHeaders = await signedHeaders(
  enterprise,
  "POST",
  url.pathname,
  ethers.toUtf8Bytes(rawJson),
  domainOf(apiRequest),
  Math.floor(Date.now() / 1000),
  ethers.hexlify(ethers.randomBytes(32)),
);
const number = await fetch(url, {
  method: "POST",
  headers: { ...numberHeaders, "Content-Type": "application/json" },
  body: rawJson,
});
report.steps.big_json_integer = { status: number.status, body: await number.json() };

console.log(JSON.stringify(report, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
process.exit(report.checks.every((c) => c.ok) ? 0 : 1);
