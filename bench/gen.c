/* gen.c — generates N synthetic transfer records (the stdlib `transfer` record,
 * SPEC 4) as CSV on standard output, deterministically from a seed.
 *
 * The mix is meant to look like a screening workload: most records are clear
 * (unlisted items between partners), some are Category II (review), a few are
 * Category I, production equipment, catch-all or pledge cases, and some cells
 * are empty (missing data).  Usage: gen N [SEED] > transfers.csv */
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
    static const char *const exporters[] = {"US", "FR", "DE", "GB", "JP", "IT", "CA", "RU", "CN", "IN",
                                            "KR", "UA", "BR", "ES", "NL", "SE", "AU", "CH", "TR", "ZA"};
    static const char *const importers[] = {"US", "FR", "DE", "GB", "JP", "SA", "AE", "EG", "IR", "PK",
                                            "KP", "SY", "IN", "CN", "BR", "TR", "ID", "MY", "VN", "NG"};
    static const char *const items[] = {"", "", "", "", "", "", "3.A.1", "3.A.2", "9.A.1", "9.A.6", "10.A.1",
                                        "11.A.1", "12.A.1", "13.A.1", "4.C.2", "6.C.1", "1.A.1", "2.A.1.c",
                                        "1.B.1", "2.B.1", "19.A.3", "20.A.1.b"};
    static const char *const systems[] = {"", "", "", "", "ballistic_missile", "cruise_missile", "uav",
                                          "space_launch_vehicle", "sounding_rocket"};
    static const char *const entities[] = {"Acme Aerospace Ltd", "Nordic Composites AB", "Sino Precision Co., Ltd.",
                                           "Volga Propulsion JSC", "Pacific Avionics Inc", "Rhine Instruments GmbH",
                                           "Dalian Sunny Industries", "Hanse Guidance Systems", "Kanto Materials KK"};
    static const char *const programs[] = {"", "", "", "", "", "", "", "", "Shahab-3", "Ghauri", "Nodong",
                                           "research sounding rocket", "commercial satellite launch"};
    fputs("id,date,exporter,exporter_entity,importer,end_user,end_use,program,item,system,payload,range,"
          "total_impulse,aerosol_capacity,quantity,value_usd,gov_assurances,wmd_concern\n",
          stdout);
    for (long i = 0; i < n; i++) {
        int y = 1995 + pick(30), m = 1 + pick(12), d = 1 + pick(28);
        const char *item = items[pick(sizeof items / sizeof items[0])];
        const char *sys = systems[pick(sizeof systems / sizeof systems[0])];
        char payload[32] = "", range[32] = "", impulse[32] = "";
        if (sys[0]) {
            snprintf(payload, sizeof payload, "%d", 50 + pick(1200));
            snprintf(range, sizeof range, pick(10) ? "%d" : "%d km", 40 + pick(2500));
        }
        if (pick(20) == 0)
            snprintf(impulse, sizeof impulse, "%.3e", 2e5 + (double)pick(1500000));
        printf("T%08ld,%04d-%02d-%02d,%s,%s,%s,Ministry of Industry %d,%s,%s,%s,%s,%s,%s,%s,,%d,%d.%02d,%s,%s\n", i,
               y, m, d, exporters[pick(20)], entities[pick(9)], importers[pick(20)], pick(50),
               pick(3) ? "civil aviation" : "research", programs[pick(13)], item, sys, payload, range, impulse,
               1 + pick(500), pick(1000000), pick(100), pick(3) ? "yes" : "no", pick(40) ? "false" : "true");
    }
    return 0;
}
