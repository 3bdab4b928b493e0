"""Maximo's own attributes of the objects the sandbox serves, so that ``oslc.select`` and the
JSON schema (``/maximo/api/jsonschemas/<os>``) offer the real objects' attributes, not only the ones
the default mapping reads.

``PERSISTENT`` is an extract of the Maximo 7.x data dictionary (persistent attributes of each MBO,
``*`` = required), copied here so the sandbox never needs the reference folder. ASSIGNMENT (a work
order's labor assignments, child object ``assignment`` of MXAPIWODETAIL) is not in that extract: its
list holds the attributes the sandbox fills. ``TENANT`` are attributes a customer added with
Database Configuration (Maximo has no naming rule; ``cx`` is this tenant's prefix).
"""

from __future__ import annotations

PERSISTENT: dict[str, str] = {
    "WORKORDER": (
        "wonum* parent status* statusdate* worktype description assetnum location jpnum faildate "
        "changeby changedate estdur* estlabhrs* estmatcost* estlabcost* esttoolcost* pmnum "
        "actlabhrs* actmatcost* actlabcost* acttoolcost* haschildren* outlabcost* outmatcost* "
        "outtoolcost* historyflag* contract wopriority targcompdate targstartdate woeq1 woeq2 "
        "woeq3 woeq4 woeq5 woeq6 woeq7 woeq8 woeq9 woeq10 woeq11 woeq12 reportedby reportdate "
        "phone problemcode calendar downtime* actstart actfinish schedstart schedfinish remdur "
        "crewid supervisor woeq13 woeq14 wojp1 wojp2 wojp3 wojp4 wojp5 wol1 wol2 wol3 wol4 "
        "wolablnk respondby assetlocpriority calcpriority chargestore* failurecode wolo1 wolo2 "
        "wolo3 wolo4 wolo5 wolo6 wolo7 wolo8 wolo9 wolo10 glaccount estservcost* actservcost* "
        "disabled* estatapprlabhrs* estatapprlabcost* estatapprmatcost* estatapprtoolcost* "
        "estatapprservcost* wosequence hasfollowupwork* worts1 worts2 worts3 worts4 worts5 "
        "sourcesysid ownersysid pmduedate pmextdate pmnextduedate worklocation externalrefid "
        "sendersysid fincntrlid generatedforpo genforpolineid orgid* siteid* taskid inspector "
        "measurementvalue measuredate observation pointnum wojo1 wojo2 wojo3 wojo4 wojo5 wojo6 "
        "wojo7 wojo8 istask* woclass* onbehalfof vendor origrecordclass origrecordid "
        "justifypriority risk environment backoutplan woacceptscharges* owner classstructureid "
        "parentchgsstatus* ownergroup commoditygroup commodity workorderid* whomischangefor "
        "reasonforchange verification persongroup lead langcode* interruptible* wogroup hasld* "
        "route routestopid cinum jobtaskid woisswap* newchildclass* suspendflow* flowcontrolled* "
        "flowactionassist* launchentryname targetdesc flowaction firstapprstatus repfacsiteid "
        "repairfacility genforporevision storeroommtlstatus dirissuemtlstatus workpackmtlstatus "
        "ignoresrmavail* ignorediavail* estintlabcost estintlabhrs estoutlabhrs estoutlabcost "
        "actintlabcost actintlabhrs actoutlabhrs actoutlabcost estatapprintlabcost "
        "estatapprintlabhrs estatapproutlabhrs estatapproutlabcost assignedownergroup "
        "availstatusdate lastcopylinkdate pluscfrequency pluscfrequnit pluscismobile* "
        "pluscjprevnum pluscloop* pluscnextdate pluscoverduedate pluscphyloc inctasksinsched* "
        "sneconstraint fnlconstraint calcorgid calccalendar calcshift nestedjpinprocess* amcrew "
        "crewworkgroup reqasstdwntime* apptrequired* aos* ams* los* lms* repairlocflag*"
    ),
    "ASSET": (
        "assetnum* parent serialnum assettag location description vendor failurecode manufacturer "
        "purchaseprice* replacecost* installdate warrantyexpdate totalcost* ytdcost* budgetcost* "
        "calnum isrunning* itemnum unchargedcost* totunchargedcost* totdowntime* statusdate "
        "changedate* changeby* eq1 eq2 eq3 eq4 eq5 eq6 eq7 eq8 eq9 eq10 eq11 eq12 eq23 eq24 "
        "priority invcost* glaccount rotsuspacct children* binnum disabled* classstructureid "
        "sourcesysid ownersysid externalrefid siteid* orgid* autowogen* itemsetid conditioncode "
        "groupname assettype usage status mainthierchy* assetid* moved* assetuid* langcode* "
        "toolrate itemtype ancestor sendersysid shiftnum toolcontrolaccount hasld* direction "
        "startmeasure endmeasure islinear* enddescription startdescription lrm "
        "defaultrepfacsiteid defaultrepfac returnedtovendor* tloamhash tloampartition* "
        "pluscassetdept pluscclass pluscduedate plusciscondesc plusciscontam* pluscisinhousecal* "
        "pluscismte* pluscismteclass pluscloopnum pluscmodelnum pluscoprgeeu pluscoprgefrom "
        "pluscoprgeto pluscphyloc pluscpmextdate* pluscsolution* pluscsumdir pluscsumeu "
        "pluscsumread pluscsumspan pluscsumurv pluscvendor iscalibration* templateid plusclploc "
        "depreciationpending saddresscode"
    ),
    "LOCATIONS": (
        "location* description type* controlacc glaccount purchvaracc invoicevaracc curvaracc "
        "shrinkageacc invcostadjacc receiptvaracc changeby* changedate* disabled* oldcontrolacc "
        "oldshrinkageacc oldinvcostadjacc classstructureid gisparam1 gisparam2 gisparam3 "
        "sourcesysid ownersysid externalrefid sendersysid siteid orgid* intlabrec isdefault* "
        "shiptoaddresscode shiptolaborcode billtoaddresscode billtolaborcode status "
        "serviceaddresscode locationsid* useinpopr* toolcontrolacc langcode* hasld* autowogen* "
        "statusdate* invowner isrepairfacility* pluscduedate pluscloop* pluscpmextdate* "
        "saddresscode"
    ),
    "PM": (
        "pmnum* description assetnum firstdate lastcompdate laststartdate usetargetdate* "
        "frequency* pmcounter* priority worktype jpnum jpseqinuse* nextdate changedate* changeby* "
        "pmeq1 supervisor calendar crewid downtime* pmeq2 pmeq3 glaccount location storeloc "
        "parent haschildren* wosequence usefrequency* route frequnit* leadtime extdate "
        "adjnextdue* masterpm overridemasterupd* wostatus* orgid* siteid* pmactmeter* "
        "pmassetwogen* owner lead parentchgsstatus* status pmuid* sunday* monday* tuesday* "
        "wednesday* thursday* friday* saturday* alertlead persongroup storelocsite ownergroup "
        "langcode* interruptible* hasld* startassetfeatureid endassetfeatureid endmeasure "
        "endoffset endyoffset endzoffset startmeasure startoffset startyoffset startzoffset "
        "assetfeatureid startyoffsetref endyoffsetref startzoffsetref endzoffsetref "
        "basemeasureunituid endbasemeasure endmeasureunituid endoffsetunituid startbasemeasure "
        "startmeasureunituid startoffsetunituid basemeasureunitid endmeasureunitid "
        "startmeasureunitid endoffsetunitid startoffsetunitid schedearly* targstarttime "
        "assignedownergroup pluscduedate* inclforecast* ltdpmcounter reforecast* lockforecast* "
        "stconoffset fnconoffset copywheninactive* crewworkgroup amcrew reqasstdwntime* "
        "pmfpcostcaldate grandtotalcost repairlocflag*"
    ),
    "INVENTORY": (
        "itemsetid* manufacturer modelnum orderunit shrinkageacc sstock vendor abctype binnum "
        "catalogcode controlacc glaccount invcostadjacc issueunit* lastissuedate orgid* siteid* "
        "sourcesysid ownersysid externalrefid category ccf* deliverytime* issue1yrago* "
        "issue2yrago* issue3yrago* issueytd* itemnum* location* maxlevel* minlevel* orderqty* "
        "sendersysid inventoryid* storeloc storelocsiteid internal* status* statusdate* "
        "dfltstagebin receipttolerance reorder costtype* hardresissue consignment* invgentype "
        "frequency frequnit nextinvoicedate consvendor"
    ),
    "INVBALANCES": (
        "itemnum* location* binnum lotnum curbal* physcnt* physcntdate reconciled* sourcesysid "
        "ownersysid externalrefid sendersysid orgid* siteid* itemsetid* conditioncode "
        "invbalancesid* stagingbin* stagedcurbal"
    ),
    "ITEM": (
        "itemnum* description rotating* lottype* capitalized* msdsnum outside* in19 in20 in21 "
        "in22 in23 sparepartautoadd* classstructureid inspectionrequired* sourcesysid ownersysid "
        "externalrefid in24 in25 in26 in27 sendersysid itemsetid* orderunit issueunit "
        "conditionenabled* groupname metername commoditygroup commodity itemtype* prorate* "
        "itemid* iskit* langcode* attachonissue* hasld* maxissue status* statusdate* "
        "hardresissue* taxexempt* receipttolerance pluscisinhousecal* pluscismte* pluscismteclass "
        "pluscsolution* iscrew*"
    ),
    "PO": (
        "ponum* description purchaseagent orderdate requireddate followupdate potype "
        "originalponum status* statusdate* vendor contact freightterms paymentterms shipvia "
        "customernum fob shipto shiptoattn billto billtoattn totalcost changeby* changedate* "
        "priority* historyflag* po1 po2 po3 po4 po5 po6 po7 po8 po9 po10* vendeliverydate "
        "receipts currencycode* exchangerate exchangedate buyahead* totaltax1 totaltax2 totaltax3 "
        "inclusive1* inclusive2* inclusive3* internal* totaltax4 totaltax5 inclusive4* "
        "inclusive5* startdate enddate payonreceipt* buyercompany exchangerate2 mnetsent "
        "ecomstatusdate sourcesysid ownersysid externalrefid sendersysid siteid* orgid* "
        "contractrefnum poid* contractrefid contractrefrev contreleaseseq storeloc storelocsiteid "
        "inspectionrequired* langcode* hasld* revisionnum* revcomments internalchange* "
        "ignorecntrev*"
    ),
    "POLINE": (
        "ponum* itemnum storeloc modelnum catalogcode orderqty orderunit unitcost receivedqty "
        "receivedunitcost receivedtotalcost* rejectedqty* vendeliverydate supervisor enterdate* "
        "enterby* description pl1 pl2 pl3 pl4 pl5 requestedby reqdeliverydate issue* polinenum* "
        "taxed* plin1 plin2 plin3 plin4 plin5 assetnum chargestore* gldebitacct glcreditacct "
        "linecost* tax1code tax1* tax2code tax2* tax3code tax3* receiptreqd* manufacturer "
        "tax4code tax4* tax5code tax5* category remark location loadedcost* prorateservice* "
        "receiptscomplete* inspectionrequired* proratecost polineid* linecost2 mrnum mrlinenum "
        "pl6 pl7 pl8 pl9 pl10 plin6 plin7 plin8 plin9 polaln1 polaln2 polaln3 polaln4 polaln5 "
        "pcardnum pcardtype pcardexpdate fincntrlid pcardverification vendorpackcode "
        "vendorpackquantity vendorwarehouse siteid* orgid* isdistributed* refwo enteredastask* "
        "linetype* itemsetid conditioncode contractrefnum commoditygroup commodity contractrefid "
        "contractrefrev scheduleid contreflineid tositeid* shipto shiptoattn langcode* "
        "conversion* hasld* mktplcitem* classstructureid revisionnum* revstatus taxexempt* "
        "receipttolerance receipttolamt receipttolqty restype consignment*"
    ),
    "COMPANIES": (
        "company* type name address1 address2 address3 address4 contact phone fob freightterms "
        "shipvia paymentterms customernum fax changeby changedate inclusive1* inclusive2* "
        "inclusive3* tax1code tax2code tax3code currencycode* location registration1 "
        "registration2 registration3 apcontrolacc apsuspenseacc rbniacc payvendor bankaccount "
        "inclusive4* inclusive5* registration4 registration5 tax4code tax5code disabled* "
        "remitaddress1 remitaddress2 remitaddress3 remitaddress4 remitcontact payonreceipt* "
        "homepage banknum dunsnum taxexemptcode taxexemptnum ecommerceenabled* mnetcompanyid "
        "sourcesysid ownersysid externalrefid sendersysid autoreceiveonasn* vendorsendsasn* "
        "vendorsendsinv* ecominterface vendorsendsstatus* autoapproveinv* autosendpocancel* "
        "orgid* defaultwarehouse parentcompany useparentremitto* address5 remitaddress5 "
        "catalogname punchoutenabled* companiesid* insurexpdate inspectionrequired* langcode* "
        "toolcontrolaccount hasld* cellphone consacct"
    ),
    "PERSON": (
        "personid* status* displayname firstname lastname department title employeetype jobcode "
        "supervisor birthdate lastevaldate nextevaldate hiredate terminationdate location "
        "locationsite locationorg shiptoaddress billtoaddress droppoint wfmailelection "
        "transemailelection* delegate delegatefromdate delegatetodate pcardnum pcardtype "
        "pcardexpdate pcardverification addressline1 addressline2 addressline3 city "
        "regiondistrict county stateprovince country postalcode vip statusdate* acceptingwfmail* "
        "wopriority loctoservreq* personuid* langcode* sendersysid sourcesysid ownersysid "
        "externalrefid language locale timezone hasld* primarysms ownergroup im_id caltype "
        "dfltapp deviceclass"
    ),
    "ASSIGNMENT": (
        "assignmentid* wonum* siteid* orgid* laborcode craft skilllevel scheduledate status* "
        "laborhrs* startdate finishdate"
    ),
}  # fmt: skip

TENANT: dict[str, dict[str, tuple[str, str]]] = {
    # MBO -> attribute -> (Maximo type, title): added by this tenant
    "WORKORDER": {"cxpermitno": ("ALN", "Permit Number"), "cxshutdown": ("YORN", "Needs Shutdown")},
    "ASSET": {"cxcriticality": ("ALN", "Criticality")},
}
MBO_OF = {
    "MXAPIWODETAIL": "WORKORDER", "MXAPIASSET": "ASSET", "MXAPIOPERLOC": "LOCATIONS",
    "MXAPIPM": "PM", "MXAPIITEM": "ITEM", "MXAPIINVENTORY": "INVENTORY", "MXAPIPO": "PO",
    "MXAPICOMPANY": "COMPANIES", "MXAPIPERSON": "PERSON",
}  # fmt: skip
CHILDREN = {  # OS -> child object (relation name in the JSON) -> MBO
    "MXAPIWODETAIL": {"assignment": "ASSIGNMENT"},
    "MXAPIPO": {"poline": "POLINE"},
    "MXAPIINVENTORY": {"invbalances": "INVBALANCES"},
}
TITLES = {  # the labels Maximo shows for the attributes the examples use
    "wonum": "Work Order", "description": "Description", "status": "Status", "crewid": "Crew",
    "siteid": "Site", "laborcode": "Labor", "craft": "Craft", "linecost": "Line Cost",
    "glaccount": "GL Account", "supervisor": "Supervisor", "amcrew": "Crew",
}  # fmt: skip
_DECIMAL = ("cost", "hrs", "qty", "price", "curbal", "tax", "amount", "measure", "rate", "dur")


def maximo_type(attr: str) -> str:
    """A Maximo type for an attribute (by name: the extract has none)."""
    if "date" in attr or attr in ("schedstart", "schedfinish", "actstart", "actfinish",
                                  "respondby", "birthdate"):  # fmt: skip
        return "DATETIME"
    if attr.endswith("id") and attr not in ("siteid", "orgid", "itemsetid", "personid", "crewid",
                                            "siteid", "locationsite", "laborcode"):  # fmt: skip
        return "BIGINT"
    if any(w in attr for w in _DECIMAL):
        return "DECIMAL"
    if attr.startswith(("is", "has")) or attr in ("disabled", "historyflag", "downtime"):
        return "YORN"
    return (
        "UPPER" if attr in ("wonum", "siteid", "orgid", "status", "location", "assetnum") else "ALN"
    )


JSON_TYPE = {"DATETIME": "string", "BIGINT": "integer", "DECIMAL": "number", "YORN": "boolean",
             "UPPER": "string", "ALN": "string"}  # fmt: skip


def attributes(mbo: str) -> dict[str, tuple[str, str | None, bool]]:
    """attribute -> (Maximo type, title, required) of an MBO, the tenant's attributes included."""
    out = {}
    for token in PERSISTENT.get(mbo, "").split():
        name = token.rstrip("*")
        out[name] = (maximo_type(name), TITLES.get(name), token.endswith("*"))
    for name, (typ, title) in TENANT.get(mbo, {}).items():
        out[name] = (typ, title, False)
    return out


def _properties(mbo: str) -> dict:
    return {
        name: {"type": JSON_TYPE[typ], "subType": typ, "persistent": True, "required": req,
               **({"title": title} if title else {})}
        for name, (typ, title, req) in attributes(mbo).items()
    }  # fmt: skip


def json_schema(os_name: str, href: str, inline: bool) -> dict | None:
    """The object structure's JSON schema as ``/jsonschemas/<os>`` answers it (child objects
    inline with ``oslc.select=*``, else as links), or None for an unknown structure."""
    os_name = os_name.upper()
    mbo = MBO_OF.get(os_name)
    if mbo is None:
        return None
    props = _properties(mbo)
    for child, child_mbo in CHILDREN.get(os_name, {}).items():
        items = ({"type": "object", "properties": _properties(child_mbo)} if inline
                 else {"$ref": f"{href}?child={child}"})  # fmt: skip
        props[child] = {"type": "array", "objectName": child_mbo, "cardinality": "multiple",
                        "relation": child.upper(), "items": items}  # fmt: skip
    return {"resource": os_name, "title": mbo, "type": "object", "properties": props}


def schema_of_records(os_name: str, attrs: set[str], children: tuple[str, ...]) -> dict:
    """A schema from the attributes the sandbox's records carry (structures whose object is not
    in the dictionary's extract: sites, person groups, meters...)."""
    props: dict = {}
    for a in sorted(attrs):
        if a.startswith("_") or a in children:
            continue
        typ = maximo_type(a)
        props[a] = {"type": JSON_TYPE[typ], "subType": typ, "persistent": True,
                    **({"title": TITLES[a]} if a in TITLES else {})}  # fmt: skip
    for child in children:
        props[child] = {"type": "array", "objectName": child.upper(), "items": {"type": "object",
                        "properties": {}}}  # fmt: skip
    return {"resource": os_name, "title": os_name, "type": "object", "properties": props}


def _h(text: str) -> int:
    import zlib

    return zlib.crc32(text.encode())


def value(os_name: str, attr: str, rec: dict) -> object:
    """The value of an attribute the sandbox's records do not carry (None: null, like most of
    Maximo's attributes on a demo record). Deterministic per record."""
    seed = _h(f"{rec.get('siteid')}/{rec.get('wonum') or rec.get('assetnum') or rec.get('ponum')}")
    if os_name == "MXAPIWODETAIL":
        if attr == "crewid":
            return (None, "CREW-A", "CREW-B", "CREW-C")[seed % 4]
        if attr == "cxpermitno":
            return f"PTW-{seed % 100000:05d}" if seed % 3 else None
        if attr == "cxshutdown":
            return bool(seed % 2)
    if os_name == "MXAPIASSET" and attr == "cxcriticality":
        return ("A", "B", "C")[seed % 3]
    return None


def children(os_name: str, child: str, rec: dict) -> list[dict] | None:
    """A child collection the sandbox's records do not carry: a work order's assignments."""
    if os_name != "MXAPIWODETAIL" or child != "assignment":
        return None
    seed = _h(f"{rec.get('siteid')}/{rec.get('wonum')}")
    crafts = ("MECH", "ELEC", "PIPE", "INST")
    return [
        {"assignmentid": seed % 1000000 * 4 + k, "wonum": rec.get("wonum"),
         "siteid": rec.get("siteid"), "orgid": rec.get("orgid"),
         "laborcode": f"L{(seed >> (4 * k)) % 90 + 10:03d}", "craft": crafts[(seed >> k) % 4],
         "status": "ASSIGNED", "laborhrs": 2.0 * (k + 1), "_rowstamp": seed % 100000 + k}
        for k in range(seed % 3)
    ]  # fmt: skip
