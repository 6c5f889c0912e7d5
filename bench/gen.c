/* gen.c — generates N synthetic transfer records (the stdlib `transfer` record,
 * SPEC 4) as CSV on standard output, deterministically from a seed.
 *
 * The mix is meant to look like a screening workload: most records are clear
 * (unlisted items, about 6 in 7), some are Category II (review), a few are
 * Category I, production equipment, catch-all, sanctions or pledge cases, and
 * some cells are empty (missing data).  With the whole standard library about
 * one record in four has a finding.  Usage: gen N [SEED] > transfers.csv */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t s = 88172645463325252ull;
static uint64_t rnd(void)
{
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
}
static int pick(int n) { return (int)(rnd() % (uint64_t)n); }

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    if (argc > 2)
        s ^= (uint64_t)atoll(argv[2]) * 0x9E3779B97F4A7C15ull;
    /* partners and other states; a few importers of concern */
    static const char *const exporters[] = {"US", "FR", "DE", "GB", "JP", "IT", "CA", "RU", "CN", "IN",
                                            "KR", "UA", "BR", "ES", "NL", "SE", "AU", "CH", "TR", "ZA"};
    static const char *const importers[] = {"US", "FR", "DE", "GB", "JP", "CA", "IT", "ES", "NL", "SE",
                                            "AU", "KR", "NO", "FI", "PL", "CZ", "BE", "AT", "DK", "NZ",
                                            "SA", "AE", "EG", "IN", "BR", "TR", "ID", "MY", "VN", "NG",
                                            "CN", "PK", "IR", "KP", "SY"};
    /* about 6 records in 7 carry no Annex item (dual-use, unlisted) */
    static const char *const items[] = {"3.A.1", "3.A.2", "9.A.1",  "9.A.6", "10.A.1", "11.A.1", "12.A.1",
                                        "13.A.1", "4.C.2", "6.C.1", "1.A.1", "2.A.1.c", "1.B.1", "2.B.1",
                                        "19.A.3", "20.A.1.b"};
    static const char *const systems[] = {"ballistic_missile", "cruise_missile", "uav", "space_launch_vehicle",
                                          "sounding_rocket"};
    /* two of the 24 names are on the US sanctions list (normalize() matches them) */
    static const char *const entities[] = {
        "Acme Aerospace Ltd",     "Nordic Composites AB",  "\"Sino Precision Co., Ltd.\"",
        "Volga Propulsion JSC",   "Pacific Avionics Inc",  "Rhine Instruments GmbH",
        "Dalian Sunny Industries", "Hanse Guidance Systems", "Kanto Materials KK",
        "Alpine Sensors AG",      "Meridian Optics plc",   "Lusitania Metals SA",
        "Great Lakes Machining",  "Baltic Electronics",    "Andes Test Equipment",
        "Sahara Logistics",       "Danube Valves",         "Maple Gyro Works",
        "Tasman Alloys Pty",      "Iberia Telemetry SL",   "Po Valley Castings",
        "Seine Navigation SAS",   "Zibo Elim Trade Company", "Cascade Fasteners Inc"};
    static const char *const programs[] = {"Shahab-3", "Ghauri", "Nodong", "research sounding rocket",
                                           "commercial satellite launch"};
#define N(a) (int)(sizeof a / sizeof a[0])
    fputs("id,date,exporter,exporter_entity,importer,end_user,end_use,program,item,system,payload,range,"
          "total_impulse,aerosol_capacity,quantity,value_usd,gov_assurances,wmd_concern\n",
          stdout);
    for (long i = 0; i < n; i++) {
        int y = 1995 + pick(30), m = 1 + pick(12), d = 1 + pick(28);
        const char *item = pick(7) ? "" : items[pick(N(items))];
        const char *sys = pick(10) ? "" : systems[pick(N(systems))];
        const char *prog = pick(25) ? "" : programs[pick(N(programs))];
        char payload[32] = "", range[32] = "", impulse[32] = "";
        if (sys[0]) { /* a declared system states its capability, now and then only one of them */
            if (pick(20))
                snprintf(payload, sizeof payload, pick(10) ? "%d" : "%d lb", 20 + pick(900));
            if (pick(20))
                snprintf(range, sizeof range, pick(10) ? "%d" : "%d km", 30 + pick(1200));
        }
        if (pick(30) == 0)
            snprintf(impulse, sizeof impulse, "%.3e", 2e5 + (double)pick(1500000));
        printf("T%08ld,%04d-%02d-%02d,%s,%s,%s,Ministry of Industry %d,%s,%s,%s,%s,%s,%s,%s,,%d,%d.%02d,%s,%s\n", i,
               y, m, d, exporters[pick(N(exporters))], entities[pick(N(entities))], importers[pick(N(importers))],
               pick(50), pick(3) ? "civil aviation" : "research", prog, item, sys, payload, range, impulse,
               1 + pick(500), pick(1000000), pick(100), pick(3) ? "yes" : "no", pick(200) ? "false" : "true");
    }
    return 0;
}
