import { infraDefaults } from "../../infra/defaults";
import { gatewaySettingsFromEnv } from "../../local/gateway-settings";

// npm start's gateway settings: the Pulumi stage's throttling defaults, overridable by environment.
it("throttles as the Pulumi stage does by default, and never drops $disconnect", () => {
  expect(gatewaySettingsFromEnv({})).toEqual({
    throttling: {
      defaultRoute: {
        rateLimit: infraDefaults.throttlingRateLimit,
        burstLimit: infraDefaults.throttlingBurstLimit,
      },
      routes: {
        $default: {
          rateLimit: infraDefaults.unmatchedRouteRateLimit,
          burstLimit: infraDefaults.unmatchedRouteBurstLimit,
        },
      },
    },
    dropDisconnects: false,
  });
});

it("reads the throttling variables and DROP_DISCONNECTS", () => {
  expect(
    gatewaySettingsFromEnv({
      THROTTLING_RATE_LIMIT: "5",
      THROTTLING_BURST_LIMIT: "10",
      UNMATCHED_ROUTE_RATE_LIMIT: "1",
      UNMATCHED_ROUTE_BURST_LIMIT: "2",
      DROP_DISCONNECTS: "1",
    }),
  ).toEqual({
    throttling: {
      defaultRoute: { rateLimit: 5, burstLimit: 10 },
      routes: { $default: { rateLimit: 1, burstLimit: 2 } },
    },
    dropDisconnects: true,
  });
});

it("refuses values it cannot use, naming the variable", () => {
  expect(() => gatewaySettingsFromEnv({ THROTTLING_RATE_LIMIT: "fast" })).toThrow(
    /THROTTLING_RATE_LIMIT=fast/,
  );
  expect(() => gatewaySettingsFromEnv({ THROTTLING_BURST_LIMIT: "-1" })).toThrow(/THROTTLING_BURST_LIMIT=-1/);
  expect(() => gatewaySettingsFromEnv({ DROP_DISCONNECTS: "yes" })).toThrow(
    /DROP_DISCONNECTS=yes: use 1 or 0/,
  );
});
