// Every capability that adds panels or KPI cards to the cockpit is imported here once;
// importing a module registers its panels (see panels/registry.ts and kpi.ts).

import "./panels/overview";
import "./panels/countyRoads";
import "./panels/roadClasses";
import "./panels/countyTable";
import "./ngsi/livePanel";
import "./operations/panels";
import "./fleet/panels";
import "./blocks/panel";
import "./blocks/registryPanel";
import "./sharing/panel";
