// The official Zoho CRM Node SDK (v8) inserting records, for `bench peers`: the same records the
// hub writes, into the same sandbox, 100 per createRecords call (the API's maximum), one call at
// a time as in the SDK's samples. Prints one JSON line: {"inserted","failed","calls","ms"}.
//
// Environment: ZOHO_API (API domain), ZOHO_TOKEN_URL (accounts .../oauth/v2/token),
// ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET, ZOHO_REFRESH_TOKEN, INPUT (a JSON array of
// {"Account_Name", "Phone", ...}), WORK (a writable folder for the SDK's token and field files),
// CONCURRENCY (calls in flight, default 1).
import * as Z from "@zohocrm/nodejs-sdk-8.0";
import { readFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const env = (k) => {
  const v = process.env[k];
  if (!v) {
    console.error(`${k} is not set`);
    process.exit(2);
  }
  return v;
};

const work = env("WORK");
mkdirSync(work, { recursive: true });
const records = JSON.parse(readFileSync(env("INPUT"), "utf8"));
const concurrency = Number(process.env.CONCURRENCY || "1");

const environment = new Z.Environment(env("ZOHO_API"), env("ZOHO_TOKEN_URL"), env("ZOHO_API"));
const token = new Z.OAuthBuilder()
  .clientId(env("ZOHO_CLIENT_ID"))
  .clientSecret(env("ZOHO_CLIENT_SECRET"))
  .refreshToken(env("ZOHO_REFRESH_TOKEN"))
  .build();
const logger = new Z.LogBuilder().level(Z.Levels.OFF).filePath(join(work, "sdk.log")).build();
const sdkConfig = new Z.SDKConfigBuilder().pickListValidation(false).autoRefreshFields(false).build();
await (await new Z.InitializeBuilder())
  .environment(environment)
  .token(token)
  .store(new Z.FileStore(join(work, "tokens.txt")))
  .SDKConfig(sdkConfig)
  .resourcePath(work)
  .logger(logger)
  .initialize();

const started = Date.now();
let inserted = 0;
let failed = 0;
let calls = 0;
const errors = [];

async function insert(batch) {
  const ops = new Z.Record.RecordOperations("Accounts");
  const body = new Z.Record.BodyWrapper();
  body.setData(
    batch.map((r) => {
      const rec = new Z.Record.Record();
      for (const [k, v] of Object.entries(r)) {
        if (v !== null && v !== "") rec.addKeyValue(k, v);
      }
      return rec;
    }),
  );
  calls += 1;
  const response = await ops.createRecords(body, new Z.HeaderMap());
  const obj = response?.getObject();
  if (obj instanceof Z.Record.ActionWrapper) {
    for (const a of obj.getData()) {
      if (a instanceof Z.Record.SuccessResponse) inserted += 1;
      else {
        failed += 1;
        if (errors.length < 5) errors.push(a.getMessage?.()?.getValue?.() ?? String(a));
      }
    }
  } else {
    failed += batch.length;
    if (errors.length < 5) errors.push(`status ${response?.getStatusCode()}: ${JSON.stringify(obj)}`);
  }
}

const batches = [];
for (let i = 0; i < records.length; i += 100) batches.push(records.slice(i, i + 100));
let next = 0;
await Promise.all(
  Array.from({ length: Math.max(1, concurrency) }, async () => {
    while (next < batches.length) {
      const b = batches[next++];
      await insert(b);
    }
  }),
);
console.log(JSON.stringify({ inserted, failed, calls, ms: Date.now() - started, errors }));
