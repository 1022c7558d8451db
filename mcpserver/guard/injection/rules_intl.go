package injection

import "strings"

// The rules in German, French, Spanish, Italian, Portuguese, Russian,
// Chinese and Japanese. They follow the English ones rule for rule, for
// the phrasings that carry most attacks: throwing away the instructions,
// casting the model in a role, its system prompt, hiding from the user,
// notes addressed to an AI, and the weak signals of exfiltration.
//
// Patterns are written in each language's own spelling: compile folds
// them the way normalize folds text (accents dropped, kana without
// voicing marks), so "vollständigen" matches "VOLLSTÄNDIGEN" and
// "vollstandigen". Words of Cyrillic text are the starts of Russian rules;
// in Chinese and Japanese text, which has no spaces, every character is a
// possible start, and starts list the first characters of the rules.
// Patterns in those scripts use \p{L} for the rest of a word: \b and \w
// are ASCII-only in Go's regular expressions.

// Fragments shared by several rules.
const (
	deRoleAdj = `(?:(?:neue[rsnm]?|andere[rsnm]?|uneingeschränkte[rsnm]?|unzensierte[rsnm]?|ungefilterte[rsnm]?|freie[rsnm]?|böse[rsnm]?|befreite[rsnm]?|bösartige[rsnm]?|jailbroken) )*`
	deAINoun  = `(?:ki|künstliche intelligenz|ki-assistent(?:in)?|ki-agent|chatbot|sprachmodell|dan|\w*gpt|llm)`
	frRoleAdj = `(?:(?:nouvel(?:le)?|autre|libre|libérée?|maléfique|malveillante?|débridée?|non censurée?) )*`
	frAINoun  = `(?:ia|i\.a\.|intelligence artificielle|assistant ia|agent ia|chatbot|modèle de langage|dan|\w*gpt|llm)`
	esRoleAdj = `(?:(?:nueva?|otra?|libre|liberada?|malvada?|sin censura) )*`
	esAINoun  = `(?:ia|i\.a\.|inteligencia artificial|asistente de ia|agente de ia|chatbot|modelo de lenguaje|dan|\w*gpt|llm)`
	ruAINoun  = `(?:ии|dan|\w*gpt|чат-?бот\p{L}*|нейросет\p{L}*|языков\p{L}* модел\p{L}*|искусственн\p{L}* интеллект\p{L}*|ии-ассистент\p{L}*)`
	zhAINoun  = `(?:ai|人工智能|人工智慧|dan|聊天机器人|聊天機器人|语言模型|語言模型|大模型|\w*gpt|ai助手|llm)`
	zhFree    = `(?:不受(?:任何)?限制的|没有(?:任何)?限制的|沒有(?:任何)?限制的|无限制的|無限制的|无约束的|無約束的|邪恶的|邪惡的|自由的|越狱的|越獄的|全新的|新的)?`
	jaAINoun  = `(?:ai|人工知能|チャットボット|dan|言語モデル|aiアシスタント|aiエージェント|chatgpt|gpt|llm)`
	jaFree    = `(?:制限のない|制約のない|無制限の|自由な|邪悪な|検閲のない|フィルターのない|脱獄した|新しい)?`
)

// intlRules extend rules. Read-only after package init.
var intlRules = []rule{
	// German.
	{name: RuleIgnoreInstructions, starts: words("ignoriere ignorier ignorieren ignoriert vergiss vergesst vergessen missachte missachten verwirf verwerfen übergehe übergehen"),
		re:    compile(`\b(?:ignorier(?:e|t|en sie)?|vergiss|vergesst|vergessen sie|missachte|missachten sie|verwirf|verwerfen sie|übergehe|übergehen sie) (?:(?:alle|die|deine|ihre|eure|sämtliche|jegliche|bisher|zuvor|vorher) )*(?:(?:vorherigen|vorigen|bisherigen|obigen|früheren|vorangegangenen|vorhergehenden|ursprünglichen|erhaltenen|gegebenen|oben genannten|anfänglichen|alten) )+(?:anweisungen|instruktionen|befehle|anordnungen|regeln|vorgaben|richtlinien|systemanweisungen|prompts?|eingaben|direktiven)\b`),
		valid: notALabCaveat},
	{name: RuleIgnoreInstructions, starts: words("ignoriere ignorier ignorieren vergiss vergesst vergessen missachte missachten"),
		re: compile(`\b(?:ignorier(?:e|en sie)?|vergiss|vergesst|vergessen sie|missachte|missachten sie) (?:(?:deine|ihre|eure) (?:regeln|richtlinien|programmierung|systemanweisungen|systemprompt|einschränkungen|sicherheitsregeln|vorgaben|anweisungen)|(?:die|alle) (?:systemanweisungen|systemprompts?|sicherheitsrichtlinien)|alles,? was (?:dir|ihnen|euch) (?:zuvor|vorher|bisher|davor) (?:gesagt|aufgetragen|befohlen|mitgeteilt) wurde|alles (?:bisher|zuvor|oben) gesagte)\b`)},
	{name: RuleIgnoreInstructions, starts: words("ignoriere ignorier ignorieren vergiss vergesst vergessen"),
		re: compile(`\b(?:ignorier(?:e|en sie)?|vergiss|vergesst|vergessen sie) (?:(?:einfach|bitte|jetzt|nun) )*(?:alles,? was (?:oben|vorher|zuvor|davor|bisher) (?:steht|stand|gesagt wurde|geschrieben (?:ist|wurde|steht))|das obige|das oben stehende|alles oben stehende|alles vorherige),? (?:und |dann )?(?:antworte|gib|zeige|zeig|schreibe|schreib|sende|gebe|liste|nenne|verrate|tu|tue|handle|du bist)\b`)},
	{name: RuleIgnoreInstructions, starts: words("setze setzen"),
		re: compile(`\bsetze(?:n sie)? (?:(?:alle|die|deine|ihre|sämtliche) )*(?:vorherigen|bisherigen|obigen|früheren) (?:anweisungen|regeln|befehle|vorgaben) außer kraft\b`)},
	{name: RuleRoleOverride, starts: words("du ihr sie ab von jetzt"), needs: words("jetzt nun sofort"),
		re: compile(`\b(?:(?:du bist|ihr seid|sie sind) (?:jetzt|nun|ab sofort|ab jetzt|von nun an)|(?:ab jetzt|ab sofort|von nun an|jetzt),? (?:bist du|seid ihr|sind sie)) (?:(?:ein|eine|einen|der|die|das|mein|meine) )?` + deRoleAdj + `(?:` + deAINoun + `|assistent(?:in)? ohne (?:einschränkungen|regeln|grenzen|filter))\b`)},
	{name: RuleRoleOverride, starts: words("verhalte benimm agiere handle antworte fungiere tu tue spiele spiel"),
		re: compile(`\b(?:(?:verhalte dich|benimm dich|agiere|handle|antworte|fungiere) (?:wie|als) (?:(?:ein|eine|einen) )?|tu(?:e)? so,? als (?:ob du|wärst du|wärest du|seist du) (?:(?:ein|eine) )?|spiele? die rolle (?:einer|eines|von) )` + deRoleAdj + deAINoun + `\b`)},
	{name: RuleRoleOverride, starts: words("aktiviere aktivieren starte wechsle schalte entwicklermodus developer dan jailbreak"), needs: words("modus"),
		re: compile(`\b(?:(?:aktiviere|aktivieren sie|starte|starten sie|wechsle in|wechsle zu|schalte) (?:den )?(?:entwickler|developer|dan|jailbreak|gott|god)[- ]?modus|(?:entwickler|developer|dan|jailbreak)[- ]?modus (?:aktivieren|aktiviert|einschalten|starten))\b`)},
	{name: RuleSystemPrompt, starts: words("zeige zeig gib nenne verrate offenbare drucke wiederhole sende schicke kopiere teile liste zeigen geben nennen verraten drucken wiederholen gebt"), needs: words("system prompt anweisung"),
		re: compile(`\b(?:zeige|zeig|gib|nenne|verrate|offenbare|drucke|wiederhole|sende|schicke|kopiere|teile|liste|zeigen sie|geben sie|nennen sie|verraten sie|drucken sie|wiederholen sie|gebt) (?:mir |uns )?(?:(?:deinen|deine|dein|ihren|ihre|ihr|den|die|das|vollständigen|vollständige|ganzen|gesamten|kompletten|geheimen|internen|genauen|wörtlichen) )*(?:system-?prompts?|system prompts?|systemanweisungen|systemanweisung|systemnachricht|versteckten anweisungen|geheimen anweisungen|internen anweisungen|initialen prompt|ursprünglichen prompt)\b`)},
	{name: RuleHideFromUser, starts: words("sag sage erzähl erzähle verrate teile zeige sagen erzählen verraten teilen informiere informieren erwähne erwähnen"), needs: words("benutzer nutzer anwender user"),
		re: compile(`\b(?:sag|sage|erzähl|erzähle|verrate|teile|zeige|sagen sie|erzählen sie|verraten sie|teilen sie|informiere|informieren sie|erwähne|erwähnen sie) (?:\w+ ){0,3}?(?:dem|den|der) (?:benutzer|nutzer|anwender|user)(?:in|n)? (?:\w+ ){0,2}?(?:nichts|nicht|kein wort|niemals)\b`)},
	{name: RuleHideFromUser, starts: words("sag sage verrate zeige erwähne sagen verraten zeigen erwähnen"), needs: words("benutzer nutzer anwender user"),
		re: compile(`\b(?:sag|sage|verrate|zeige|erwähne|sagen sie|verraten sie|zeigen sie|erwähnen sie) (?:\w+ ){0,3}?(?:nicht|nichts|niemals) (?:gegenüber |vor )?(?:dem|den|der) (?:benutzer|nutzer|anwender|user)(?:in|n)?\b`)},
	{name: RuleHideFromUser, starts: words("der die den"), needs: words("benutzer nutzer anwender"),
		re: compile(`\b(?:der|die|den) (?:benutzer|nutzer|anwender)(?:in)? (?:darf|soll|muss|sollte) (?:davon |das |es |dies )?(?:nichts|nicht|niemals) (?:erfahren|wissen|merken|sehen|mitbekommen|bemerken)\b`)},
	{name: RuleAddressesAI, starts: words("hinweis nachricht anweisung anweisungen notiz achtung wichtig befehl auftrag info"), needs: words("ki sprachmodell chatbot llm"),
		re: compile(`\b(?:hinweis|nachricht|anweisung|anweisungen|notiz|achtung|wichtig|befehl|auftrag|info),? (?:an|für) (?:die |den |das |alle |jede )?(?:ki|künstliche intelligenz|ki-assistent(?:en)?|ki-agent(?:en)?|sprachmodell(?:e)?|chatbot(?:s)?|llm|assistenz-ki) ?[:\-]`)},
	{name: RuleAddressesAI, starts: words("wenn falls"), needs: words("ki sprachmodell chatbot llm"),
		re: compile(`\b(?:wenn|falls) (?:du|sie) (?:eine |ein )?(?:ki|künstliche intelligenz|sprachmodell|chatbot|llm|ki-assistent|ki-agent) (?:bist|sind|liest)\b`)},
	{name: RuleNewInstructions, starts: words("hier das dies folgendes"), needs: words("neuen eigentlichen wahren echten"),
		re: compile(`\b(?:hier sind|das sind|dies sind|folgendes sind) (?:deine|ihre|die) (?:neuen|eigentlichen|wahren|echten) (?:anweisungen|befehle|aufgaben|regeln)\b`)},
	{name: RuleOverrideCue, kind: kindOverride, starts: words("neue aktualisierte geheime echte"),
		re: compile(`\b(?:neue|aktualisierte|geheime|echte) (?:anweisungen|anweisung|befehle|aufgabe) ?:`)},
	{name: RuleStealth, kind: kindStealth, starts: words("heimlich unbemerkt stillschweigend insgeheim im ohne"),
		re: compile(`\b(?:heimlich|unbemerkt|stillschweigend|insgeheim|im geheimen|ohne nachzufragen|ohne rückfrage|ohne (?:dass )?(?:es )?(?:der|die|den|dem) (?:benutzer|nutzer|anwender)(?:in)? (?:es )?(?:merkt|bemerkt|erfährt|weiß|mitbekommt)|ohne (?:den|die) (?:benutzer|nutzer|anwender)(?:in)? zu (?:informieren|fragen|benachrichtigen))\b`)},
	{name: RuleAIContext, kind: kindAI, starts: words("sag sage antworte antworten teile teilen zeige zeigen informiere informieren in"), needs: words("benutzer nutzer deiner"),
		re: compile(`\b(?:(?:sag|sage|antworte|antworten sie|teile|teilen sie|zeige|zeigen sie|informiere|informieren sie) (?:es |das )?(?:dem|den) (?:benutzer|nutzer)(?:n|in)?|in deiner (?:antwort|zusammenfassung|ausgabe))\b`)},
	{name: RuleBulkExport, kind: kindExfil, starts: words("exportiere exportieren sende senden schicke schicken lade laden kopiere kopieren übertrage übertragen leite leiten übermittle übermitteln gib gebe poste"), needs: words("alle sämtliche gesamt komplett vollständig samtliche vollstandig"),
		re: compile(`\b(?:exportiere|exportieren sie|sende|senden sie|schicke|schicken sie|lade|laden sie|kopiere|kopieren sie|übertrage|übertragen sie|leite|leiten sie|übermittle|übermitteln sie|gib|gebe|poste) (?:\w+ ){0,2}?(?:alle|sämtliche|die gesamte|den gesamten|das gesamte|die komplette|die kompletten|die vollständige|die vollständigen) (?:\w+ ){0,2}?(?:daten|datensätze|einträge|zeilen|tabellen|datenbank|inhalte|proben|protokolle|ergebnisse|dateien|informationen|passwörter|schlüssel|zugangsdaten|labsheets?)\b`)},
	{name: RuleSendToURL, kind: kindExfil, starts: words("sende senden schicke schicken lade laden übertrage übertragen leite leiten übermittle übermitteln poste posten exportiere exportieren kopiere kopieren"), needs: []string{"://"},
		re: compile(`\b(?:sende|senden|schicke|schicken|lade|laden|übertrage|übertragen|leite|leiten|übermittle|übermitteln|poste|posten|exportiere|exportieren|kopiere|kopieren) [^.!?\n]{0,160}?\b(?:an|zu|nach|auf|über|unter) (?:die (?:url|adresse|seite) |den (?:server|endpunkt|webhook) )?[<("'\[]?(?:https?|ftp)://`)},

	// French.
	{name: RuleIgnoreInstructions, starts: words("ignore ignorer ignorez oublie oublier oubliez ne fais faites néglige négligez écarte écartez"),
		re:    compile(`\b(?:ignore[rz]?|oublie[rz]?|ne tiens pas compte|ne tenez pas compte|fais abstraction|faites abstraction|néglige[rz]?|écarte[rz]?) (?:(?:de|des|du|toutes|tous|les|tes|vos|ces|d') ?)*(?:instructions|consignes|directives|règles|indications|ordres|commandes|prompts?) (?:(?:système|données|reçues|fournies) )*(?:précédentes|antérieures|ci-dessus|d'avant|initiales|originales|d'origine|plus haut|du système|qui précèdent|que tu as reçues|que vous avez reçues|(?:reçues|données) (?:auparavant|avant|jusqu'ici))\b`),
		valid: notALabCaveat},
	{name: RuleIgnoreInstructions, starts: words("ignore ignorer ignorez oublie oublier oubliez"),
		re: compile(`\b(?:ignore[rz]?|oublie[rz]?) (?:tout ce (?:qui précède|qui a été dit|qu'on t'a dit|qu'on vous a dit|que tu as lu|qui est (?:écrit )?ci-dessus)|(?:tes|vos) (?:règles|consignes|instructions|directives|restrictions|filtres)|ce qui précède,? (?:et |puis )?(?:réponds|répondez|affiche|affichez|donne|donnez|écris|écrivez|envoie|envoyez|révèle|révélez|agis|agissez))\b`)},
	{name: RuleRoleOverride, starts: words("tu vous à a désormais dorénavant maintenant"), needs: words("maintenant désormais dorénavant présent desormais dorenavant present"),
		re: compile(`(?:(?:\btu es|\bvous êtes) (?:maintenant|désormais|dorénavant|à présent)|(?:\bà partir de maintenant|\bdésormais|\bdorénavant|\bmaintenant),? (?:tu es|vous êtes)) (?:(?:un|une|le|la|mon|ma) )?` + frRoleAdj + `(?:` + frAINoun + `|assistant sans (?:restrictions?|limites?|filtres?|règles))\b`)},
	{name: RuleRoleOverride, starts: words("agis agissez comporte-toi comportez-vous réponds répondez fais faites joue jouez jouer"),
		re: compile(`\b(?:(?:agis|agissez|comporte-toi|comportez-vous|réponds|répondez) (?:comme|en tant que) (?:(?:un|une|le|la) )?|(?:fais|faites) semblant d'être (?:(?:un|une) )?|joue[rz]? le rôle (?:d'une? |de ))` + frRoleAdj + frAINoun + `\b`)},
	{name: RuleRoleOverride, starts: words("active activez activer passe passez bascule basculez entre entrez"), needs: words("mode"),
		re: compile(`\b(?:active[rz]?|passe[rz]? en|bascule[rz]? en|entre[rz]? en) (?:le )?mode (?:développeur|dan|jailbreak|dieu|sans restrictions?)\b`)},
	{name: RuleSystemPrompt, starts: words("révèle révélez affiche affichez montre montrez donne donnez imprime imprimez répète répétez divulgue divulguez envoie envoyez copie copiez écris écrivez partage partagez dis dites"), needs: words("prompt système systeme cachées cachees"),
		re: compile(`\b(?:révèle|révélez|affiche|affichez|montre|montrez|donne|donnez|imprime|imprimez|répète|répétez|divulgue|divulguez|envoie|envoyez|copie|copiez|écris|écrivez|partage|partagez|dis|dites)(?:-moi|-nous| moi| nous)? (?:(?:ton|ta|tes|votre|vos|le|la|les|l') ?)*(?:prompt système|prompt du système|invite système|instructions système|instructions du système|consignes système|message système|instructions cachées|consignes cachées|prompt initial|prompt caché)\b`)},
	{name: RuleHideFromUser, starts: words("ne"), needs: words("utilisat personne"),
		re: compile(`\bne (?:le |lui |leur |la |les |l'|en )?(?:dis|dites|mentionne|mentionnez|signale|signalez|révèle|révélez|montre|montrez|raconte|racontez|répète|répétez|parle|parlez) (?:rien|pas|jamais|surtout pas)(?: \S+){0,4}? (?:à l'utilisat(?:eur|rice)|aux utilisateurs|à la personne)\b`)},
	{name: RuleHideFromUser, starts: words("l'utilisateur l'utilisatrice"),
		re: compile(`\bl'utilisat(?:eur|rice) ne (?:doit|devrait|peut) (?:pas|jamais|rien) (?:le |en )?(?:savoir|apprendre|voir|remarquer|découvrir)\b`)},
	{name: RuleAddressesAI, starts: words("note message instruction instructions remarque consigne consignes attention avis rappel ordre"), needs: words("ia intelligence modèle modele chatbot llm"),
		re: compile(`\b(?:note|message|instructions?|remarque|consignes?|attention|avis|rappel|ordre)s? (?:pour|à|aux|destinée? à) (?:l'|les |la |le |une? )?(?:ia|i\.a\.|intelligence artificielle|assistants? ia|agents? ia|modèles? de langage|chatbots?|llm) ?[:\-]`)},
	{name: RuleAddressesAI, starts: words("si"), needs: words("ia intelligence modèle modele chatbot llm"),
		re: compile(`\bsi (?:tu es|vous êtes) (?:une? )?(?:ia|intelligence artificielle|modèle de langage|chatbot|llm|assistant ia)\b`)},
	{name: RuleNewInstructions, starts: words("voici"),
		re: compile(`\bvoici (?:tes|vos) (?:nouvelles|vraies|véritables) (?:instructions|consignes|directives|règles)\b`)},
	{name: RuleOverrideCue, kind: kindOverride, starts: words("nouvelles"),
		re: compile(`\bnouvelles (?:instructions|consignes|directives) ?:`)},
	{name: RuleStealth, kind: kindStealth, starts: words("discrètement secrètement en silencieusement sans"),
		re: compile(`\b(?:discrètement|secrètement|en secret|en cachette|silencieusement|en silence|sans (?:le dire|prévenir|avertir|informer|demander|en informer|rien dire)(?: à l'utilisat(?:eur|rice))?)\b`)},
	{name: RuleStealth, kind: kindStealth, starts: words("à"), needs: words("insu"),
		re: compile(`\bà l'insu de l'utilisat(?:eur|rice)\b`)},
	{name: RuleAIContext, kind: kindAI, starts: words("dis dites réponds répondez indique indiquez montre montrez informe informez dans"), needs: words("utilisat réponse reponse"),
		re: compile(`\b(?:(?:dis|dites|réponds|répondez|indique|indiquez|montre|montrez|informe|informez) (?:à )?l'utilisat(?:eur|rice)|dans (?:ta|votre) réponse)\b`)},
	{name: RuleBulkExport, kind: kindExfil, starts: words("envoie envoyez exporte exportez transfère transférez copie copiez télécharge téléchargez téléverse téléversez transmets transmettez partage partagez publie publiez extrais extrayez liste listez affiche affichez"), needs: words("tout l'ensemble"),
		re: compile(`\b(?:envoie|envoyez|exporte|exportez|transfère|transférez|copie|copiez|télécharge|téléchargez|téléverse|téléversez|transmets|transmettez|partage|partagez|publie|publiez|extrais|extrayez|liste|listez|affiche|affichez) (?:\S+ ){0,2}?(?:tout(?:es)?|l'ensemble)(?: de)? (?:les |des |de la |du |le |la )?(?:\S+ )?(?:données|enregistrements|lignes|tables|tableaux|fiches|résultats|fichiers|mots de passe|clés|échantillons|protocoles|informations|entrées)\b`)},
	{name: RuleSendToURL, kind: kindExfil, starts: words("envoie envoyez exporte exportez transfère transférez copie copiez téléverse téléversez transmets transmettez publie publiez poste postez"), needs: []string{"://"},
		re: compile(`\b(?:envoie|envoyez|exporte|exportez|transfère|transférez|copie|copiez|téléverse|téléversez|transmets|transmettez|publie|publiez|poste|postez) [^.!?\n]{0,160}?(?:à|vers|sur) (?:l'url |l'adresse |le serveur )?[<("'\[]?(?:https?|ftp)://`)},

	// Spanish.
	{name: RuleIgnoreInstructions, starts: words("ignora ignore ignorar ignoren olvida olvide olvidar olviden descarta descarte desestima desestime omite omita no haz"),
		re:    compile(`\b(?:ignora|ignore|ignorar|ignoren|olvida|olvide|olvidar|olviden|descarta|descarte|desestima|desestime|omite|omita|no hagas caso (?:a|de)|haz caso omiso (?:a|de)) (?:(?:todas|todos|las|los|tus|sus|estas|esas|cualquier) )*(?:instrucciones|indicaciones|reglas|órdenes|directrices|directivas|consignas|prompts?|restricciones) (?:(?:del sistema|recibidas|dadas) )*(?:anteriores|previas|de arriba|precedentes|originales|iniciales|del sistema|de antes|(?:recibidas|dadas) (?:antes|anteriormente)|que (?:te|le) (?:dieron|han dado))\b`),
		valid: notALabCaveat},
	{name: RuleIgnoreInstructions, starts: words("ignora ignore olvida olvide"),
		re: compile(`\b(?:ignora|ignore|olvida|olvide) (?:todo lo (?:anterior|que (?:te|le) (?:dijeron|han dicho)|dicho (?:antes|anteriormente))|(?:tus|sus) (?:reglas|instrucciones|directrices|restricciones|filtros)|lo (?:anterior|de arriba),? (?:y |e )?(?:responde|responda|contesta|conteste|di|diga|escribe|escriba|muestra|muestre|revela|revele|actúa|actúe|dame|envía))\b`)},
	{name: RuleRoleOverride, starts: words("ahora a desde de eres usted"), needs: words("ahora"),
		re: compile(`\b(?:(?:ahora|a partir de ahora|desde ahora|de ahora en adelante),? (?:eres|serás|usted es)|(?:eres|usted es) ahora) (?:(?:un|una|el|la|mi) )?` + esRoleAdj + `(?:` + esAINoun + `|asistente sin (?:restricciones|límites|filtros|reglas))\b`)},
	{name: RuleRoleOverride, starts: words("actúa actúe actuar compórtate compórtese responde responda finge finja haz imagina"),
		re: compile(`\b(?:(?:actúa|actúe|actuar|compórtate|compórtese|responde|responda) como (?:(?:un|una|el|la) )?|(?:finge|finja|haz de cuenta que eres|imagina que eres) (?:ser |que eres )?(?:(?:un|una) )?)` + esRoleAdj + esAINoun + `\b`)},
	{name: RuleRoleOverride, starts: words("activa active entra cambia pasa"), needs: words("modo"),
		re: compile(`\b(?:activa|active|entra en|cambia al?|pasa al?) (?:el )?modo (?:desarrollador|dan|jailbreak|dios|sin restricciones)\b`)},
	{name: RuleSystemPrompt, starts: words("revela revele muestra muestre muéstrame muéstranos dime dame imprime imprima repite repita envía envíe copia copie comparte comparta escribe escriba di"), needs: words("sistema ocult prompt"),
		re: compile(`\b(?:revela|revele|muestra|muestre|muéstrame|muéstranos|dime|dame|imprime|imprima|repite|repita|envía|envíe|copia|copie|comparte|comparta|escribe|escriba|di)(?: me| nos)? (?:(?:tu|tus|su|sus|el|la|los|las|completo|completa|entero|entera|exacto|oculto|original) )*(?:prompt del sistema|prompt de sistema|indicaciones del sistema|instrucciones del sistema|mensaje del sistema|instrucciones ocultas|prompt inicial|prompt oculto)\b`)},
	{name: RuleHideFromUser, starts: words("no"), needs: words("usuari humano"),
		re: compile(`\bno (?:se lo |le |les |lo |se )?(?:digas|diga|digan|menciones|mencione|cuentes|cuente|informes|informe|reveles|revele|muestres|muestre|comentes|comente)(?: nada| esto| eso| de esto| de eso)*(?: \S+){0,3}? (?:al usuario|a la usuaria|a los usuarios|al humano)\b`)},
	{name: RuleHideFromUser, starts: words("el la"), needs: words("usuari"),
		re: compile(`\b(?:el usuario|la usuaria) no (?:debe|tiene que|puede|debería) (?:saber|enterarse|ver|notar|descubrir)\b`)},
	{name: RuleAddressesAI, starts: words("nota mensaje instrucción instrucciones aviso atención recordatorio orden indicación notas mensajes"), needs: words("ia inteligencia modelo chatbot llm"),
		re: compile(`\b(?:notas?|mensajes?|instrucción|instrucciones|avisos?|atención|recordatorios?|orden|indicación)(?:es)? (?:para|a) (?:la |el |los |las |una? |cualquier )?(?:ia|i\.a\.|inteligencia artificial|asistentes? de ia|agentes? de ia|modelos? de lenguaje|chatbots?|llm) ?[:\-]`)},
	{name: RuleAddressesAI, starts: words("si"), needs: words("ia inteligencia modelo chatbot llm"),
		re: compile(`\bsi (?:eres|usted es) (?:una? )?(?:ia|inteligencia artificial|modelo de lenguaje|chatbot|llm|asistente de ia)\b`)},
	{name: RuleNewInstructions, starts: words("estas aquí aqui"),
		re: compile(`\b(?:estas son|aquí están) (?:tus|sus) (?:nuevas|verdaderas|reales) (?:instrucciones|órdenes|reglas|tareas)\b`)},
	{name: RuleOverrideCue, kind: kindOverride, starts: words("nuevas"),
		re: compile(`\bnuevas (?:instrucciones|órdenes|indicaciones) ?:`)},
	{name: RuleStealth, kind: kindStealth, starts: words("en secretamente silenciosamente discretamente a sin"), needs: words("secret silencio discretamente escondidas preguntar avisar decir informar usuario"),
		re: compile(`\b(?:en secreto|secretamente|silenciosamente|en silencio|discretamente|a escondidas|sin (?:preguntar|avisar|decir nada|informar|que el usuario (?:lo )?(?:sepa|note)))\b`)},
	{name: RuleAIContext, kind: kindAI, starts: words("dile dígale responde responda contesta conteste informa informe muestra muestre en"), needs: words("usuari respuesta"),
		re: compile(`\b(?:(?:dile|dígale|responde|responda|contesta|conteste|informa|informe|muestra|muestre) (?:al usuario|a la usuaria)|en tu respuesta)\b`)},
	{name: RuleBulkExport, kind: kindExfil, starts: words("envía envíe exporta exporte transfiere transfiera copia copie sube suba manda mande reenvía reenvíe comparte comparta publica publique extrae extraiga lista muestra"), needs: words("todo toda totalidad"),
		re: compile(`\b(?:envía|envíe|exporta|exporte|transfiere|transfiera|copia|copie|sube|suba|manda|mande|reenvía|reenvíe|comparte|comparta|publica|publique|extrae|extraiga|lista|muestra) (?:\S+ ){0,2}?(?:todos|todas|toda|todo|la totalidad)(?: de)? (?:los |las |la |el )?(?:\S+ )?(?:datos|registros|filas|tablas|resultados|archivos|ficheros|contraseñas|claves|información|muestras|protocolos|entradas)\b`)},
	{name: RuleSendToURL, kind: kindExfil, starts: words("envía envíe exporta exporte manda mande sube suba reenvía publica transfiere copia"), needs: []string{"://"},
		re: compile(`\b(?:envía|envíe|exporta|exporte|manda|mande|sube|suba|reenvía|publica|transfiere|copia) [^.!?\n]{0,160}?(?:a|al|hacia|en) (?:la url |la dirección |el servidor )?[<("'\[]?(?:https?|ftp)://`)},

	// Italian and Portuguese.
	{name: RuleIgnoreInstructions, starts: words("ignora ignore ignorar esqueça esqueca dimentica"),
		re:    compile(`\b(?:ignora|ignore|ignorar|esqueça|dimentica) (?:(?:tutte|le|tue|todas|as|suas) )*(?:istruzioni|instruções|regole|regras) (?:precedenti|anteriores|previe|prévias)\b`),
		valid: notALabCaveat},

	// Russian.
	{name: RuleIgnoreInstructions, starts: words("игнорируй игнорируйте проигнорируй проигнорируйте игнорировать забудь забудьте забыть отбрось отбросьте пренебреги пренебрегите не отмени отмените"),
		re:    compile(`(?:проигнорируй(?:те)?|игнорируй(?:те)?|игнорировать|забудь(?:те)?|забыть|отбрось(?:те)?|пренебреги(?:те)?|не обращай(?:те)? внимания на|не следуй(?:те)?|отмени(?:те)?) (?:(?:все|вс[её]|эти|твои|ваши|свои|любые|тебе|вам|ранее|до этого) )*(?:(?:предыдущ|предшествующ|прежн|прошл|стар|вышеуказанн|вышеприведенн|вышеприведённ|изначальн|исходн|первоначальн|системн|полученн|данн)\p{L}* )+(?:инструкци|указани|команд|правил|директив|подсказ|промпт|установк|ограничени|распоряжени|предписани)\p{L}*`),
		valid: notARussianLabCaveat},
	{name: RuleIgnoreInstructions, starts: words("игнорируй игнорируйте проигнорируй проигнорируйте забудь забудьте"),
		re: compile(`(?:проигнорируй(?:те)?|игнорируй(?:те)?|забудь(?:те)?) (?:(?:все|вс[её]) )?(?:(?:инструкци|указани|правил|команд)\p{L}* (?:выше|ранее|до этого)|вс[её],? (?:что|чему) (?:тебе|вам) (?:говорили|сказали|велели|писали) (?:раньше|ранее|до этого)|(?:свои|твои|ваши) (?:правила|ограничения|инструкции|установки))`)},
	{name: RuleRoleOverride, starts: words("ты вы теперь отныне с"),
		re: compile(`(?:(?:ты|вы) (?:теперь|отныне|с этого момента)|(?:теперь|отныне|с этого момента),? (?:ты|вы)) (?:- )?(?:(?:новый|новая|другой|другая|свободный|свободная|неограниченный|неограниченная|злой|злая|освобожденный|освобождённый|взломанный) )*(?:` + ruAINoun + `|бот|ассистент без ограничений|помощник без ограничений)`)},
	{name: RuleRoleOverride, starts: words("действуй действуйте веди ведите выступай выступайте отвечай отвечайте притворись притворитесь представь представьте сыграй сыграйте"),
		re: compile(`(?:(?:действуй(?:те)?|веди(?:те)? себя|выступай(?:те)?|отвечай(?:те)?) (?:как|в роли|в качестве)|притворись|притворитесь|представь(?:те)?,? что (?:ты|вы)|представь(?:те)? себя|сыграй(?:те)? роль) (?:\p{L}+ ){0,2}?` + ruAINoun)},
	{name: RuleRoleOverride, starts: words("включи включите активируй активируйте перейди перейдите"),
		re: compile(`(?:включи(?:те)?|активируй(?:те)?|перейди(?:те)? в) (?:режим (?:разработчика|dan|бога|без ограничений|джейлбрейка)|dan)`)},
	{name: RuleSystemPrompt, starts: words("покажи покажите раскрой раскройте выведи выведите напечатай напечатайте повтори повторите сообщи сообщите отправь отправьте перешли перешлите выдай выдайте скажи скажите процитируй процитируйте дай дайте"),
		re: compile(`(?:покажи|покажите|раскрой|раскройте|выведи|выведите|напечатай|напечатайте|повтори|повторите|сообщи|сообщите|отправь|отправьте|перешли|перешлите|выдай|выдайте|скажи|скажите|процитируй|процитируйте|дай|дайте) (?:мне |нам )?(?:(?:свой|свои|твой|твои|ваш|ваши|весь|все|полный|полностью|дословно|целиком) )*(?:системн\p{L}* (?:промпт|инструкци|подсказк|сообщени|указани)\p{L}*|скрыт\p{L}* (?:инструкци|указани|промпт)\p{L}*|исходн\p{L}* промпт\p{L}*)`)},
	{name: RuleHideFromUser, starts: words("не"),
		re: compile(`не (?:говори|говорите|сообщай|сообщайте|рассказывай|рассказывайте|показывай|показывайте|упоминай|упоминайте|раскрывай|раскрывайте)(?: \p{L}+){0,3}? (?:пользовател\p{L}*|человеку|юзеру)`)},
	{name: RuleHideFromUser, starts: words("пользователь пользователи"),
		re: compile(`пользовател\p{L}* не (?:должен|должна|должны|нужно) (?:об этом |этого |это )?(?:знать|узнать|видеть|увидеть|замечать|заметить)`)},
	{name: RuleAddressesAI, starts: words("примечание заметка сообщение инструкция инструкции указание указания напоминание внимание записка просьба приказ"),
		re: compile(`(?:примечание|заметка|сообщение|инструкция|инструкции|указание|указания|напоминание|внимание|записка|просьба|приказ)(?: для| к)? (?:ии|искусственного интеллекта|нейросети|языковой модели|ии-ассистента|чат-?бота) ?[:\-]`)},
	{name: RuleAddressesAI, starts: words("если"),
		re: compile(`если (?:ты|вы) (?:- )?(?:ии|нейросеть|языковая модель|чат-?бот|искусственный интеллект|ии-ассистент)`)},
	{name: RuleNewInstructions, starts: words("вот это"),
		re: compile(`(?:вот|это) (?:твои|ваши) (?:новые|настоящие|истинные|реальные) (?:инструкции|указания|правила|задачи|команды)`)},
	{name: RuleOverrideCue, kind: kindOverride, starts: words("новые"),
		re: compile(`новые (?:инструкции|указания|команды) ?:`)},
	{name: RuleStealth, kind: kindStealth, starts: words("незаметно тайно втайне скрытно потихоньку молча без не"),
		re: compile(`(?:незаметно|тайно|втайне|скрытно|потихоньку|молча|без ведома пользовател\p{L}*|не спрашивая)`)},
	{name: RuleAIContext, kind: kindAI, starts: words("скажи скажите сообщи сообщите ответь ответьте покажи покажите в"),
		re: compile(`(?:(?:скажи|скажите|сообщи|сообщите|ответь|ответьте|покажи|покажите) пользовател\p{L}*|в (?:своём|своем|твоём|твоем|вашем) ответе)`)},
	{name: RuleBulkExport, kind: kindExfil, starts: words("отправь отправьте экспортируй экспортируйте выгрузи выгрузите перешли перешлите скопируй скопируйте загрузи загрузите передай передайте слей слейте выведи выведите покажи покажите"),
		re: compile(`(?:отправь|отправьте|экспортируй|экспортируйте|выгрузи|выгрузите|перешли|перешлите|скопируй|скопируйте|загрузи|загрузите|передай|передайте|слей|слейте|выведи|выведите|покажи|покажите) (?:\p{L}+ ){0,2}?(?:все|вс[её]|весь|всю|целиком|полностью) (?:\p{L}+ )?(?:данные|записи|строки|таблиц\p{L}*|баз\p{L}* данных|содержимое|информаци\p{L}*|ключи|пароли|результаты|файлы|образцы)`)},
	{name: RuleSendToURL, kind: kindExfil, starts: words("отправь отправьте перешли перешлите загрузи загрузите выгрузи выгрузите передай передайте слей слейте экспортируй экспортируйте"), needs: []string{"://"},
		re: compile(`(?:отправь|отправьте|перешли|перешлите|загрузи|загрузите|выгрузи|выгрузите|передай|передайте|слей|слейте|экспортируй|экспортируйте) [^.!?\n]{0,160}?(?:на|по адресу|в|к) (?:адрес |сервер |url |сайт )?[<("'\[]?(?:https?|ftp)://`)},

	// Chinese, Simplified and Traditional.
	{name: RuleIgnoreInstructions, starts: []string{"忽", "无", "無", "不", "别", "別", "忘", "抛", "拋", "放", "跳", "违", "違", "绕", "繞"},
		re: compile(`(?:忽略|忽视|忽視|无视|無視|不要理会|不要理會|不理会|不理會|别理会|別理會|忘记|忘記|忘掉|抛开|拋開|放弃|放棄|跳过|跳過|违背|違背|绕过|繞過|不要遵守|不要遵循|不再遵守|不再遵循)(?:掉)? ?(?:你|您)?(?:之前|以前|先前|此前|上面|上述|前面|以上|原来|原來|原有|原始|所有|全部|一切|系统|系統|你的|您的|收到的|得到的|给你的|給你的|的| )+(?:指令|指示|说明|說明|命令|规则|規則|提示词|提示詞|提示|设定|設定|约束|約束|限制|要求|准则|準則)`)},
	{name: RuleRoleOverride, starts: []string{"从", "從", "现", "現", "接", "你", "您"},
		re: compile(`(?:(?:从现在开始|從現在開始|从现在起|從現在起|从今以后|從今以後|现在|現在|接下来|接下來)[,、]? ?)?(?:你|您)(?:现在|現在|从现在开始|從現在開始)?(?:是|就是|将是|將是|将成为|將成為|成为|成為|扮演|作为|作為)(?:一个|一個|一名|一位)?` + zhFree + `(?:` + zhAINoun + `|机器人|機器人|助手)`)},
	{name: RuleRoleOverride, starts: []string{"扮", "假", "充", "装", "裝", "模"},
		re: compile(`(?:扮演|假装|假裝|充当|充當|装作|裝作|模仿)(?:你是|成为|成為|成)?(?:一个|一個|一名)?` + zhFree + zhAINoun)},
	{name: RuleRoleOverride, starts: []string{"开", "開", "启", "啟", "进", "進", "切", "激", "打"},
		re: compile(`(?:开启|開啟|启用|啟用|进入|進入|切换到|切換到|激活|打开|打開)(?:了)?(?:开发者|開發者|开发人员|開發人員|越狱|越獄|dan|上帝|无限制|無限制) ?模式`)},
	{name: RuleSystemPrompt, starts: []string{"显", "顯", "输", "輸", "打", "透", "泄", "洩", "告", "给", "給", "重", "展", "公", "发", "發", "说", "說", "复", "複", "列"},
		re: compile(`(?:显示|顯示|输出|輸出|打印|透露|泄露|洩露|告诉我|告訴我|给我|給我|重复|重複|展示|公开|公開|发送|發送|说出|說出|复述|複述|列出)(?:一下)?(?:你的|您的|你|您|完整的|全部的|完整|全部|的|所有)*(?:系统提示词|系統提示詞|系统提示|系統提示|系统指令|系統指令|系统消息|系統訊息|系統消息|隐藏指令|隱藏指令|初始提示|初始指令|系统设定|系統設定|system prompt)`)},
	{name: RuleHideFromUser, starts: []string{"不", "别", "別", "切", "请", "請", "千", "绝", "絕"},
		re: compile(`(?:不要|别|別|切勿|请勿|請勿|不得|不可以|不能|千万不要|千萬不要|绝对不要|絕對不要)(?:把|将|將)?(?:这件事|這件事|这些|這些|此事|这条指令|這條指令|这|這|此|任何事)?(?:告诉|告訴|透露给|透露給|提醒|让|讓|泄露给|洩露給)(?:用户|用戶|使用者)`)},
	{name: RuleHideFromUser, starts: []string{"用", "使", "瞒", "瞞"},
		re: compile(`(?:(?:用户|用戶|使用者)(?:不应|不應|不能|不可以|绝不能|絕不能|不得|不应该|不應該)(?:知道|发现|發現|看到|察觉|察覺)|(?:瞒着|瞞著)(?:用户|用戶|使用者))`)},
	{name: RuleAddressesAI, starts: []string{"给", "給", "致", "对", "對", "写", "寫"},
		re: compile(`(?:给|給|致|对|對|写给|寫給) ?` + zhAINoun + ` ?(?:的)?(?:说明|說明|指示|指令|消息|訊息|留言|提示|备注|備註|话|話)? ?:`)},
	{name: RuleAddressesAI, starts: []string{"如"},
		re: compile(`如果你是(?:一个|一個)? ?` + zhAINoun)},
	{name: RuleNewInstructions, starts: []string{"以", "这", "這"},
		re: compile(`(?:以下|这|這)(?:是|些是)(?:你的|您的)?新(?:的)?(?:指令|指示|任务|任務|规则|規則)`)},
	{name: RuleOverrideCue, kind: kindOverride, starts: []string{"新"},
		re: compile(`新(?:的)?(?:指令|指示) ?:`)},
	{name: RuleStealth, kind: kindStealth, starts: []string{"悄", "偷", "秘", "暗", "不", "在", "未"},
		re: compile(`(?:悄悄|偷偷|秘密地|暗中|暗地里|暗地裡|不动声色|不動聲色|在(?:用户|用戶|使用者)不知情|未经用户同意|未經用戶同意|不要声张|不要聲張)`)},
	{name: RuleAIContext, kind: kindAI, starts: []string{"告", "回", "在"},
		re: compile(`(?:(?:告诉|告訴|回复|回覆|回答)(?:用户|用戶|使用者)|在(?:你的|您的)(?:回答|回复|回覆|答复|答覆)中)`)},
	{name: RuleBulkExport, kind: kindExfil, starts: []string{"把", "将", "將", "所", "全", "一", "整"},
		re: compile(`(?:把|将|將)?(?:所有|全部|一切|整个|整個)(?:的)?(?:数据|數據|资料|資料|记录|記錄|行|表格|样本|樣本|结果|結果|文件|密码|密碼|密钥|密鑰|信息|訊息)(?:都|全部)?(?:发送|發送|导出|導出|上传|上傳|转发|轉發|传到|傳到|复制|複製|提交|发给|發給|泄露|洩露)`)},
	{name: RuleBulkExport, kind: kindExfil, starts: []string{"发", "發", "导", "導", "上", "转", "轉", "复", "複", "提", "泄", "洩"},
		re: compile(`(?:发送|發送|导出|導出|上传|上傳|转发|轉發|复制|複製|提交|泄露|洩露)(?:所有|全部|一切|整个|整個)(?:的)?(?:数据|數據|资料|資料|记录|記錄|表格|样本|樣本|结果|結果|文件|密码|密碼)`)},
	{name: RuleSendToURL, kind: kindExfil, starts: []string{"发", "發", "上", "转", "轉", "传", "傳", "提", "导", "導"}, needs: []string{"://"},
		re: compile(`(?:发送|發送|上传|上傳|转发|轉發|传|傳|提交|导出|導出|发|發)(?:到|至|给|給)[^。！？\n]{0,40}?(?:https?|ftp)://`)},

	// Japanese.
	{name: RuleIgnoreInstructions, starts: []string{"こ", "以", "前", "上", "先", "今", "最", "元", "当", "既", "従", "す", "全", "あ", "シ"},
		re: compile(`(?:(?:これまで|以前|前|上記|先ほど|先|今まで|最初|元|当初|前述|先述|上|既存|従来)(?:の|に|で)?(?:すべての|全ての|全部の|あらゆる)?|すべての|全ての|あらゆる|システム)(?:受け取った|与えられた|指定された|設定された|書かれた|記載された)?(?:指示|命令|指令|ルール|規則|プロンプト|制約|設定|インストラクション|ガイドライン)(?:を|は|も)?(?:すべて|全て|全部|一切)?(?:無視|忘れ|破棄|無効に|放棄)`)},
	{name: RuleRoleOverride, starts: []string{"今", "こ", "以", "あ", "君", "お"},
		re: compile(`(?:(?:今から|これから|今後|以後|今日から)[、,]? ?)?(?:あなたは|君は|お前は)(?:今から|これから|今後)?[、,]? ?` + jaFree + jaAINoun + `(?:です|だ|になり|になる|として)`)},
	{name: RuleRoleOverride, starts: []string{"制", "無", "自", "邪", "検", "フ", "脱", "新", "人", "チ", "言", "ai", "dan", "gpt", "chatgpt", "llm"},
		re: compile(`` + jaFree + jaAINoun + `(?:として|のように)(?:振る舞|ふるま|行動|動作|回答|答え|ロールプレイ|演じ)`)},
	{name: RuleRoleOverride, starts: []string{"開", "デ", "脱", "ジ", "dan"},
		re: compile(`(?:開発者|デベロッパー|脱獄|ジェイルブレイク|dan) ?モード(?:を|に)?(?:有効|切り替え|入|起動|オン|移行)`)},
	{name: RuleSystemPrompt, starts: []string{"シ", "隠", "初", "内", "system"},
		re: compile(`(?:システムプロンプト|システム プロンプト|システム指示|システムメッセージ|隠された指示|隠し指示|初期プロンプト|内部指示|system prompt)(?:を|の内容を|の全文を|の中身を)(?:すべて|全て|そのまま|一字一句|正確に)?(?:表示|出力|教え|開示|公開|見せ|印刷|繰り返|送信|共有|翻訳|書き出)`)},
	{name: RuleHideFromUser, starts: []string{"ユ", "利", "使"},
		re: compile(`(?:ユーザー|ユーザ|利用者|使用者)(?:(?:に|には|へ)(?:このこと|この指示|これ|この内容|この件|何も|何一つ)?(?:を|は)?(?:絶対に|決して)?(?:伝えない|言わない|知らせない|教えない|見せない|報告しない|話さない|伝えず|言わず|知らせず|教えず)|に(?:知られ|気づかれ|気付かれ|ばれ|バレ)(?:ない|ず))`)},
	{name: RuleAddressesAI, starts: []string{"人", "チ", "言", "ai", "dan", "gpt", "chatgpt", "llm"},
		re: compile(jaAINoun + `(?:への|に対する|向けの|へ)(?:指示|メッセージ|注意|お願い|命令|メモ|伝言|連絡) ?:`)},
	{name: RuleAddressesAI, starts: []string{"も", "あ"},
		re: compile(`(?:もし)?あなたが` + jaAINoun + `(?:なら|であれば|の場合)`)},
	{name: RuleNewInstructions, starts: []string{"以", "こ"},
		re: compile(`(?:以下|これ)が(?:あなたの)?新しい(?:指示|命令|タスク|ルール)`)},
	{name: RuleOverrideCue, kind: kindOverride, starts: []string{"新"},
		re: compile(`新しい指示 ?:`)},
	{name: RuleStealth, kind: kindStealth, starts: []string{"こ", "密", "ひ", "内", "秘", "黙", "ユ"},
		re: compile(`(?:こっそり|密かに|ひそかに|内緒で|秘密裏に|黙って|ユーザーに(?:知らせずに|確認せずに|断りなく))`)},
	{name: RuleAIContext, kind: kindAI, starts: []string{"ユ", "回", "あ"},
		re: compile(`(?:ユーザー(?:に|へ)(?:伝え|返答|回答|答え|報告)|(?:あなたの)?回答(?:の中|内)で)`)},
	{name: RuleBulkExport, kind: kindExfil, starts: []string{"す", "全", "あ"},
		re: compile(`(?:すべての|全ての|全部の|あらゆる)(?:データ|レコード|記録|行|テーブル|サンプル|結果|ファイル|情報|パスワード|キー|鍵)(?:を|は)?(?:すべて|全て)?[^。\n]{0,30}?(?:送信|送っ|送る|送り|エクスポート|アップロード|転送|コピー|共有|書き出)`)},
	{name: RuleSendToURL, kind: kindExfil, starts: words("https http ftp"), needs: []string{"://"},
		re: compile(`(?:https?|ftp)://\S{1,200}? ?(?:に|へ|まで|宛て)[^。\n]{0,10}?(?:送信|送っ|送る|送り|アップロード|転送|ポスト)`)},
}

// notARussianLabCaveat is notALabCaveat for Russian: "игнорируйте
// предыдущие указания по окраске" (about the staining) is a person
// correcting a protocol.
func notARussianLabCaveat(s string, m []int) bool {
	rest := s[m[1]:]
	if !ruLabCaveat.MatchString(rest) {
		return true
	}
	end := len(rest)
	if i := strings.IndexAny(rest, ".!?\n"); i >= 0 {
		end = i
	}
	return ruAIMarker.MatchString(rest[:min(end, 300)])
}

var (
	ruLabCaveat = lazy(`^ (?:по|для|о|об|к|в|во|на|при|если|когда|относительно|насч[её]т|касательно) `)
	ruAIMarker  = lazy(`(?:ии|нейросет|модел|ассистент|пользовател|промпт|ответ|данные|http)`)
)
