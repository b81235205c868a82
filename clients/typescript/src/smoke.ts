// Smoke test of the generated TypeScript types (openapi-typescript) with openapi-fetch against a
// running service: sign in, create a plan, create findings as an auditor, list them with a
// filter and follow the cursor to the last page. Run by scripts/client-smoke.sh:
//   MEJORA_URL=http://127.0.0.1:8080 MEJORA_EMAIL=… MEJORA_PASSWORD=… npx tsx src/smoke.ts
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./api.js";

type Finding = components["schemas"]["Finding"];

const baseUrl = process.env.MEJORA_URL ?? "http://127.0.0.1:8080";
const email = process.env.MEJORA_EMAIL ?? "admin@mejora.local";
const password = process.env.MEJORA_PASSWORD;
if (!password) throw new Error("set MEJORA_PASSWORD");

/** A client whose every request carries the bearer token. */
function clientFor(token?: string) {
  const client = createClient<paths>({ baseUrl });
  if (token) {
    const auth: Middleware = {
      onRequest({ request }) {
        request.headers.set("Authorization", `Bearer ${token}`);
        return request;
      },
    };
    client.use(auth);
  }
  return client;
}

/** Fails with the problem document when a call did not succeed. */
function check<T>(what: string, result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data === undefined) {
    throw new Error(`${what}: ${result.response.status} ${JSON.stringify(result.error)}`);
  }
  console.log(`${what}: ${result.response.status}`);
  return result.data;
}

async function signIn(email: string, password: string): Promise<string> {
  const result = await clientFor().POST("/api/v1/auth/login", { body: { email, password } });
  return check(`sign in as ${email}`, result).access_token;
}

const run = Date.now().toString(36);
const admin = clientFor(await signIn(email, password));

const plan = check(
  "create plan",
  await admin.POST("/api/v1/plans", {
    body: {
      code: `TS.${run}`,
      title: "Plan creado desde el cliente TypeScript",
      policy_scope: "seguridad_digital",
      fiscal_year: 2025,
      start_date: "2026-01-01",
      end_date: "2026-12-31",
    },
    params: { header: { "Idempotency-Key": `ts-plan-${run}` } },
  }),
);
console.log(`  plan ${plan.id} ${plan.code} v${plan.version} (${plan.status})`);

// Findings are recorded by auditors: the administrator adds one for this run.
const auditorEmail = `auditora.ts.${run}@entidad.gov.co`;
const auditorPassword = `clave del cliente typescript ${run}`;
check(
  "create auditor",
  await admin.POST("/api/v1/users", {
    body: { email: auditorEmail, display_name: "Auditora TS", password: auditorPassword, roles: ["auditor"] },
  }),
);
const auditor = clientFor(await signIn(auditorEmail, auditorPassword));

const reportCode = `OCI-TS-${run}`;
const severities: components["schemas"]["Severity"][] = ["high", "low", "high", "high", "medium", "high", "high"];
for (const [i, severity] of severities.entries()) {
  check(
    `create finding H-${i + 1} (${severity})`,
    await auditor.POST("/api/v1/findings", {
      body: {
        source: "internal_audit",
        report_code: reportCode,
        finding_code: `H-${i + 1}`,
        title: `Hallazgo ${i + 1} del cliente TypeScript`,
        severity,
        fiscal_year: 2025,
      },
    }),
  );
}

// List with a filter, two per page, following `next_cursor` to the end.
const seen: Finding[] = [];
let cursor: string | undefined;
let pages = 0;
do {
  const page = check(
    `list findings page ${pages + 1}`,
    await admin.GET("/api/v1/findings", {
      params: { query: { report_code: reportCode, severity: "high", sort: "created_at", limit: 2, cursor } },
    }),
  );
  pages += 1;
  seen.push(...page.items);
  cursor = page.next_cursor ?? undefined;
} while (cursor !== undefined);

const expected = severities.filter((s) => s === "high").length;
const codes = seen.map((f) => f.finding_code);
console.log(`  ${seen.length} high findings in ${pages} pages: ${codes.join(", ")}`);
if (seen.length !== expected || new Set(codes).size !== expected || seen.some((f) => f.severity !== "high")) {
  throw new Error(`expected ${expected} distinct high findings, got ${JSON.stringify(codes)}`);
}
if (pages !== Math.ceil(expected / 2)) throw new Error(`expected ${Math.ceil(expected / 2)} pages, got ${pages}`);
console.log("TypeScript client smoke test passed");
