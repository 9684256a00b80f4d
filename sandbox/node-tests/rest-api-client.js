// Drives the sandbox kintone emulator with the official @kintone/rest-api-client and prints one
// JSON line of what it observed; sandbox/tests/kintone_official_clients.rs checks it.
// Env: KINTONE_BASE_URL (http://localhost:PORT), KINTONE_TOKEN_1..3, KINTONE_USERNAME,
// KINTONE_PASSWORD.
"use strict";

const { KintoneRestAPIClient, KintoneRestAPIError } = require("@kintone/rest-api-client");

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`missing env ${name}`);
  return v;
};

const baseUrl = env("KINTONE_BASE_URL");
const token1 = env("KINTONE_TOKEN_1");
const token2 = env("KINTONE_TOKEN_2");
const token3 = env("KINTONE_TOKEN_3");

const customers = new KintoneRestAPIClient({ baseUrl, auth: { apiToken: token1 } });
const both = new KintoneRestAPIClient({ baseUrl, auth: { apiToken: [token2, token1] } });
const admin = new KintoneRestAPIClient({
  baseUrl,
  auth: { username: env("KINTONE_USERNAME"), password: env("KINTONE_PASSWORD") },
});
const guest = new KintoneRestAPIClient({ baseUrl, guestSpaceId: 1, auth: { apiToken: token3 } });

async function expectError(promise) {
  try {
    await promise;
  } catch (e) {
    if (e instanceof KintoneRestAPIError) {
      return { status: e.status, code: e.code, bulkRequestIndex: e.bulkRequestIndex ?? null };
    }
    throw e;
  }
  throw new Error("expected a KintoneRestAPIError");
}

async function main() {
  const out = {};

  const page = await customers.record.getRecords({
    app: 1,
    fields: ["$id", "会社名", "売上高"],
    query: '売上高 >= 100000000 order by 売上高 desc',
    totalCount: true,
  });
  out.getRecords = {
    totalCount: page.totalCount,
    first: page.records[0]["会社名"].value,
    keys: Object.keys(page.records[0]).sort(),
  };

  // Single-record CRUD with optimistic locking.
  const added = await customers.record.addRecord({
    app: 1,
    record: { 会社名: { value: "株式会社ノード追加" }, 売上高: { value: "1000" }, 都道府県: { value: "沖縄県" } },
  });
  const got = await customers.record.getRecord({ app: 1, id: added.id });
  const updated = await customers.record.updateRecord({
    app: 1,
    id: added.id,
    revision: added.revision,
    record: { 担当者名: { value: "比嘉 太一" } },
  });
  out.crud = {
    id: added.id,
    revision: added.revision,
    name: got.record["会社名"].value,
    updatedRevision: updated.revision,
    conflict: await expectError(
      customers.record.updateRecord({ app: 1, id: added.id, revision: added.revision, record: {} }),
    ),
    byKey: (
      await customers.record.updateRecord({
        app: 1,
        updateKey: { field: "会社名", value: "株式会社ノード追加" },
        record: { 部署名: { value: "営業部" } },
      })
    ).revision,
  };

  // addAllRecords: 2,000 records per bulkRequest of 20 × 100.
  const many = Array.from({ length: 2150 }, (_, i) => ({
    会社名: { value: `一括会社${String(i).padStart(4, "0")}株式会社` },
    売上高: { value: String(i) },
  }));
  const addedAll = await customers.record.addAllRecords({ app: 1, records: many });
  out.addAllRecords = { count: addedAll.records.length, firstId: addedAll.records[0].id };

  // Reads of every record: $id paging, and a cursor when ordered.
  const byId = await customers.record.getAllRecords({ app: 1, condition: '会社名 like "一括会社"', fields: ["$id"] });
  const byCursor = await customers.record.getAllRecordsWithCursor({
    app: 1,
    query: '会社名 like "一括会社" order by 売上高 desc',
    fields: ["売上高"],
  });
  const ordered = await customers.record.getAllRecords({
    app: 1,
    condition: '会社名 like "一括会社"',
    orderBy: "売上高 asc",
    fields: ["売上高"],
  });
  out.getAll = {
    byId: byId.length,
    byCursor: byCursor.length,
    cursorFirst: byCursor[0]["売上高"].value,
    ordered: ordered.length,
    orderedFirst: ordered[0]["売上高"].value,
  };

  // updateAllRecords and deleteAllRecords over the same records.
  const ids = byId.map((r) => r.$id.value);
  await customers.record.updateAllRecords({
    app: 1,
    records: ids.map((id) => ({ id, record: { 顧客ランク: { value: "C" } } })),
  });
  const ranked = await customers.record.getRecords({
    app: 1,
    query: '会社名 like "一括会社" and 顧客ランク in ("C") limit 1',
    totalCount: true,
  });
  await customers.record.deleteAllRecords({ app: 1, records: ids.map((id) => ({ id })) });
  const left = await customers.record.getRecords({ app: 1, query: '会社名 like "一括会社"', totalCount: true });
  out.updateDeleteAll = { updated: ranked.totalCount, left: left.totalCount };

  // Server-side upsert.
  const upsert = await customers.record.updateRecords({
    app: 1,
    upsert: true,
    records: [
      { updateKey: { field: "会社名", value: "株式会社サンプル" }, record: { 部署名: { value: "営業本部" } } },
      { updateKey: { field: "会社名", value: "アップサート株式会社" }, record: {} },
    ],
  });
  out.upsert = upsert.records.map((r) => r.operation);

  // A bulkRequest that fails at its second entry.
  out.bulkFailure = await expectError(
    customers.bulkRequest({
      requests: [
        { method: "POST", api: "/k/v1/record.json", payload: { app: 1, record: { 会社名: { value: "ロールバック株式会社" } } } },
        { method: "PUT", api: "/k/v1/record.json", payload: { app: 1, id: 1, revision: 999, record: {} } },
      ],
    }),
  );
  out.rolledBack = (
    await customers.record.getRecords({ app: 1, query: '会社名 = "ロールバック株式会社"', totalCount: true })
  ).totalCount;

  // Lookup from 活動履歴 to 顧客管理 with both apps' tokens.
  const activity = await both.record.addRecord({
    app: 2,
    record: { 顧客レコード番号: { value: "2" }, 活動日: { value: "2024-06-03" }, 件名: { value: "定例" } },
  });
  out.lookup = (await both.record.getRecord({ app: 2, id: activity.id })).record["会社名"].value;

  // Errors the SDK surfaces.
  out.errors = {
    otherToken: await expectError(customers.record.getRecords({ app: 2 })),
    limit: await expectError(customers.record.getRecords({ app: 1, query: "limit 501" })),
    notFound: await expectError(customers.record.getRecord({ app: 1, id: 99999 })),
  };

  // Guest space, metadata, password auth.
  const inquiries = await guest.record.getRecords({ app: 3, totalCount: true });
  const fields = await customers.app.getFormFields({ app: 1 });
  const apps = await admin.app.getApps({});
  out.meta = {
    guestTotal: inquiries.totalCount,
    uniqueCompany: fields.properties["会社名"].unique,
    apps: apps.apps.map((a) => a.name),
  };

  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
