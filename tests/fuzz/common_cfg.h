/*
 * common_cfg.h -- the parts of bridge.cfg every plugin fuzz target shares:
 * an in-memory store, a 24x7 calendar and a DST office calendar with
 * holidays, SLAs with targets and a penalty, availability with credits.
 * Only text: the targets append their "sources = (...)" list.
 */
#ifndef IB_FUZZ_COMMON_CFG_H
#define IB_FUZZ_COMMON_CFG_H

#define FUZZ_CFG_COMMON                                                       \
  "store = { path = \":memory:\"; };\n"                                       \
  "timezone = \"Europe/Paris\";\n"                                            \
  "calendars = (\n"                                                           \
  "  { name = \"24x7\"; timezone = \"UTC\"; },\n"                             \
  "  { name = \"office\"; timezone = \"Europe/Paris\";\n"                     \
  "    hours = { mon = \"08:00-12:30,13:30-18:00\"; tue = \"08:00-18:00\";\n" \
  "              wed = \"08:00-18:00\"; thu = \"08:00-18:00\";\n"             \
  "              fri = \"08:00-17:00\"; sat = \"00:00-24:00\"; };\n"          \
  "    holidays = [ \"2016-12-25\", \"2026-11-01\" ]; }\n"                    \
  ");\n"                                                                      \
  "slas = (\n"                                                                \
  "  { name = \"incidents\"; kinds = [ \"incident\" ]; calendar = "           \
  "\"office\";\n"                                                             \
  "    targets = ( { priority = \"P1\"; first_response = \"30m\"; "           \
  "resolution = \"4h\"; },\n"                                                 \
  "                { priority = \"P2\"; first_response = \"1h\"; "            \
  "resolution = \"8h\"; },\n"                                                 \
  "                { priority = \"P3\"; resolution = \"24h\"; },\n"           \
  "                { priority = \"P4\"; first_response = \"8h\"; } );\n"      \
  "    penalty = { monthly_fee = 1000.0; currency = \"EUR\";\n"               \
  "                per_response_breach_pct = 2.0; "                           \
  "per_resolution_breach_pct = 1.0;\n"                                        \
  "                cap_pct = 20.0; }; },\n"                                   \
  "  { name = \"all\"; calendar = \"24x7\";\n"                                \
  "    targets = ( { priority = \"P1\"; first_response = \"1h\"; "            \
  "resolution = \"1d\"; },\n"                                                 \
  "                { priority = \"P5\"; first_response = \"2d\"; "            \
  "resolution = \"10d\"; } ); }\n"                                            \
  ");\n"                                                                      \
  "availability = (\n"                                                        \
  "  { service = \"ERP\"; target_pct = 99.5; calendar = \"24x7\";\n"          \
  "    monthly_fee = 100.0; currency = \"EUR\"; credit = \"proportional\"; "  \
  "},\n"                                                                      \
  "  { service = \"Email\"; target_pct = 99.0; calendar = \"office\";\n"      \
  "    count_degradation = true;\n"                                           \
  "    from_tickets = { kinds = [ \"incident\" ]; priorities = [ \"P1\" ]; "  \
  "}; }\n"                                                                    \
  ");\n"

#endif /* IB_FUZZ_COMMON_CFG_H */
