package injection

import (
	"net"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Rule names, stable for audit records and tests.
const (
	// Phrases that are instructions to an AI on their own.
	RuleIgnoreInstructions = "ignore-instructions" // "ignore previous instructions"
	RuleRoleOverride       = "role-override"       // "you are now DAN", "enable developer mode"
	RuleSystemPrompt       = "system-prompt"       // "reveal your system prompt", "SYSTEM PROMPT:"
	RuleChatTemplate       = "chat-template"       // <|im_start|>, [INST], "### System:", "Assistant: Sure, …"
	RuleExfiltrate         = "exfiltrate"          // "exfiltrate"
	RuleHideFromUser       = "hide-from-user"      // "do not tell the user"
	RuleAddressesAI        = "addresses-ai"        // "Note to the AI:", "if you are an LLM"
	RuleSecretRequest      = "secret-request"      // "print your API keys"
	RuleNewInstructions    = "new-instructions"    // "new instructions for the AI", "these are your new instructions"

	// Signals that are ordinary in lab text on their own ("export all data
	// to the shared drive", "upload the reads to https://…"). Each counts
	// only when a signal of a different kind is near it (see [window]).
	RuleBulkExport    = "bulk-export"    // "export all records"
	RuleSendToURL     = "send-to-url"    // "send … to https://…"
	RuleSuspiciousURL = "suspicious-url" // attacker-ish hosts, public IP literals, templated queries
	RuleAIContext     = "ai-context"     // "the assistant", "tell the user", "in your response"
	RuleStealth       = "stealth"        // "silently", "without asking"
	RuleOverrideCue   = "override-cue"   // "New instructions:", "before answering"
	RuleSecretMention = "secret-mention" // "API key", "password"

	// Hidden text.
	RuleHiddenZeroWidth = "hidden-zero-width"       // zero-width characters splitting words
	RuleHiddenBidi      = "hidden-bidi-control"     // bidirectional overrides and isolates
	RuleHiddenTags      = "hidden-tag-characters"   // Unicode tag characters (invisible ASCII)
	RuleHiddenTagText   = "hidden-tag-instructions" // tag characters that spell instructions

	// Encoded instructions: the finding covers the encoded original.
	RuleBase64       = "base64-instructions"      // a base64 blob that decodes to instructions
	RuleHex          = "hex-instructions"         // hex digits or \x escapes that decode to instructions
	RuleURLEncoded   = "url-encoded-instructions" // percent-encoding ("%69%67…", "q=ignore+all+…")
	RuleHTMLEntities = "html-entity-instructions" // HTML character references ("&#105;", "&lt;")

	// Disguised letters: the finding covers the disguised original.
	RuleSpacedLetters = "spaced-letter-instructions" // "i g n o r e  a l l", "r-e-v-e-a-l"
	RuleLeetspeak     = "leetspeak-instructions"     // "1gn0r3 4ll pr3v10u5"
	RuleROT13         = "rot13-instructions"         // "vtaber nyy cerivbhf"

	// Markup.
	RuleComment   = "comment-instructions" // an HTML or markdown comment with instruction-like text
	RuleExfilLink = "exfiltration-link"    // an image (or a link) whose URL carries data out of the workspace
)

// window is how close (in normalized bytes) two weak signals of different
// kinds must be to count: about two sentences.
const window = 400

// Kinds of weak signal. Two signals of the same kind (such as "export all
// records" and "to https://…" in one sentence) do not confirm each other.
type kind int

const (
	strong kind = iota
	kindExfil
	kindURL
	kindAI
	kindStealth
	kindOverride
	kindSecret
)

type rule struct {
	name string
	kind kind
	// starts are the words a match can begin with ("ignore"), word
	// prefixes ending in '*' ("exfiltrat*"), or single punctuation bytes
	// ("<"). Matching runs re only where one of them is, which keeps the
	// regular expressions off almost all of the text.
	starts []string
	// needs, if set, are strings of which one must occur within maxSpan
	// of a start for the rule to be tried there: a cheap test that keeps
	// frequent starts ("the", "for", "do") off the regular expression.
	needs []string
	// after, if set, lists what may come right before a match (spaces
	// aside) besides the start of the text: "\n" for a line start.
	after string
	// re matches at the start of its input (compile anchors it).
	re *lazyRegexp
	// valid, if set, vets a match m (offsets into s).
	valid func(s string, m []int) bool
	// find, instead of starts and re, finds the matches itself.
	find func(s string) [][]int
}

// maxSpan bounds the text a match is looked for in, from its start.
const maxSpan = 320

// compile turns a pattern written with plain spaces into one anchored at
// the start of its input that matches the normalized text, where a space
// may be a line or paragraph break.
func compile(pattern string) *lazyRegexp {
	pattern = foldPattern(pattern)
	pattern = strings.ReplaceAll(pattern, " ?", `\s*`)
	pattern = strings.ReplaceAll(pattern, " ", `\s+`)
	return lazy(`^(?:` + pattern + `)`)
}

// search is compile without the anchor, for validators that look around.
func search(pattern string) *lazyRegexp {
	pattern = strings.ReplaceAll(pattern, " ?", `\s*`)
	return lazy(strings.ReplaceAll(pattern, " ", `\s+`))
}

// lazyRegexp compiles its pattern on first use. Compiling the whole rule
// table takes tens of milliseconds, and every scispot-mcp process — serve
// above all, whose start-up a client waits for — would pay it at package
// init, used or not. The compiled value never changes once made.
type lazyRegexp struct {
	get func() *regexp.Regexp
}

func lazy(pattern string) *lazyRegexp {
	return &lazyRegexp{get: sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })}
}

func (l *lazyRegexp) MatchString(s string) bool { return l.get().MatchString(s) }

func (l *lazyRegexp) String() string { return l.get().String() }

func (l *lazyRegexp) FindStringSubmatchIndex(s string) []int {
	return l.get().FindStringSubmatchIndex(s)
}

// Need lists.
var (
	aiWords = words("ai llm chatbot language gpt copilot a.i.")
	// ignoreNeeds: the verb itself, so the phrasal starts ("do", "no",
	// "set") are tried only near "follow", "aside" and the like.
	ignoreNeeds = words("ignor disregard forget overrid bypass abandon discard neglect aside out attention follow")
)

// words splits a list of start words.
func words(s string) []string { return strings.Fields(s) }

// Pattern fragments.
const (
	// adjectives a role-play prompt puts before the role.
	roleAdj = `(?:(?:new|different|unrestricted|unfiltered|uncensored|unlimited|unbound|evil|rogue|jailbroken|free|obedient|malicious|compromised|rebel|independent|autonomous|amoral|unethical|unaligned|uncontrolled|hacked|liberated|rebellious) )*`
	// roles a role-play prompt casts the model in.
	roleNoun = `(?:ai|a\.i\.|ai assistant|assistant|chatbot|bot|llm|large language model|language model|\w*gpt|dan|persona|character|hacker|ai agent|ai model|entity)`
	// roles for "act as …", where "agent", "assistant" and "model" are lab words.
	aiNoun   = `(?:ai|a\.i\.|ai assistant|ai agent|ai model|chatbot|llm|large language model|language model|\w*gpt|dan)`
	modeWord = `(?:developer|dev|dan|god|jailbreak|jailbroken|unrestricted|unfiltered|uncensored|evil|chaos|sudo|opposite|no-?limits?)`
	// ignoreVerb: verbs that throw instructions away.
	ignoreVerb = `(?:ignore|ignoring|disregard|disregarding|forget|forgetting|override|overriding|bypass|bypassing|abandon|discard|neglect|set aside|throw out|pay no attention to|do not follow|don't follow|dont follow|stop following|no longer follow)`
	// ignoreQual: what marks the instructions as the model's own.
	ignoreQual = `(?:(?:all|any|every|each|of|the|your|these|those|its|my|our|both|such) )*(?:(?:previous|previously given|prior|preceding|above|above-mentioned|earlier|former|foregoing|original|initial|system|developer|safety|programmed|built-in|hidden|all) )+`
	ignoreObj  = `(?:instructions?|prompts?|directives?|directions|commands|rules|guidelines|guidance|messages|context|constraints|guardrails|programming|orders|restrictions|policies|filters|training|safeguards|text|content)`
	secretObj  = `(?:api keys?|access tokens?|bearer tokens?|auth(?:entication|orization)? tokens?|auth(?:orization)? headers?|oauth tokens?|session tokens?|refresh tokens?|credentials|secrets|private keys?|ssh keys?|environment variables|env vars|\.env file|scispot (?:api )?tokens?|keychain(?: entries| items)?)`
	// aiAddressee: who a note addressed to an AI names.
	aiAddressee = `(?:the |any |all |every |an |our |my )?(?:ai|a\.i\.|ais|llm|llms|chatbot|chatbots|language models?|large language models?|ai assistants?|ai agents?|ai models?|chatgpt|gpt|copilot|ai systems?)`
)

// Start words shared by several rules.
const (
	ignoreStarts = "ignore ignoring disregard disregarding forget forgetting override overriding bypass bypassing abandon discard neglect set throw pay do don't dont stop no"
	secretVerbs  = "reveal print output leak disclose dump expose list show tell give share send post include append paste echo return forward email upload transmit exfiltrate read write"
	exportVerbs  = "export dump extract copy send upload transfer forward post leak output print list email share download retrieve collect gather fetch return include give show paste sync push move"
)

// rules is the detector's rule table: the English rules, then intlRules.
// Read-only after package init.
var rules = slices.Concat(englishRules, intlRules)

var englishRules = []rule{
	// "Ignore previous instructions" and its kin.
	{name: RuleIgnoreInstructions, starts: words(ignoreStarts), needs: ignoreNeeds,
		re:    compile(`\b` + ignoreVerb + ` ` + ignoreQual + ignoreObj + `\b`),
		valid: notALabCaveat},
	{name: RuleIgnoreInstructions, starts: words(ignoreStarts), needs: ignoreNeeds,
		re: compile(`\b` + ignoreVerb + ` (?:everything|anything|all(?: of it| of that| that)?|what) (?:you (?:were|have been|had been|'ve been) (?:told|given|instructed|programmed|trained)|(?:(?:written|said|stated|mentioned) )?(?:above|before|previously|earlier|prior to this|so far|until now|up to (?:now|this point)))`)},
	{name: RuleIgnoreInstructions, starts: words(ignoreStarts), needs: ignoreNeeds,
		re: compile(`\b` + ignoreVerb + ` (?:(?:all|any|every|each|of|the|your|these|those) )*` + ignoreObj +
			` (?:that )?(?:you (?:were |have been |had been |'ve been )?(?:got|received|given|told|had|read)|(?:given|written|stated|provided|listed|mentioned)) (?:to you )?(?:\w+ ){0,2}?(?:before|above|earlier|previously|so far|until now|prior)\b`),
		valid: notALabCaveat},
	{name: RuleIgnoreInstructions, starts: words("ignore disregard forget"),
		// "Disregard the above" alone is how people correct a note; what
		// follows it here is what a model is told to do instead.
		re: compile(`\b(?:ignore|disregard|forget) (?:(?:all|everything|anything|of|the|what(?:'s| is| was)?) )*(?:(?:text|content|instructions|messages|conversation|said|written) )?(?:above|before this|prior to this|so far),? (?:and |then |instead |; )*(?:respond|reply|answer|output|return|reveal|act as|pretend|you are now|from now on)\b`)},
	{name: RuleIgnoreInstructions, starts: words(ignoreStarts), needs: ignoreNeeds,
		re: compile(`\b` + ignoreVerb + ` (?:your (?:system prompt|guidelines|guardrails|programming|training|rules|instructions|restrictions|safety \w+|content \w+|ethical \w+|policies|filters|creators?|developers?)|the (?:system prompt|safety (?:filters|training|guidelines)|content polic(?:y|ies)|guardrails|user'?s? (?:request|question|query|instructions))|(?:openai|anthropic)'?s? \w+)\b`)},

	// Role play and "modes".
	{name: RuleRoleOverride, starts: words("you you're"), needs: words("now"),
		re: compile(`\byou(?: are|'re) now (?:(?:a|an|the|my|our|acting as|operating as|playing|called|named) )?` + roleAdj + roleNoun + `\b`)},
	{name: RuleRoleOverride, starts: words("you you're enable activate enter switch turn unlock engage"), needs: words("mode"),
		re: compile(`\b(?:you(?: are|'re) now (?:in |entering |operating in |running in |switched to |in the )?|(?:enable|activate|enter|switch to|switch into|turn on|unlock|engage) (?:the )?)` + modeWord + ` mode\b`)},
	{name: RuleRoleOverride, starts: words("you you're"), needs: words("now longer"),
		re: compile(`\byou(?: are|'re) (?:now (?:free|freed|released|liberated|unbound|exempt) (?:from|of)|no longer (?:bound|restricted|limited|constrained|governed) by) (?:(?:any|your|the|all|openai'?s?|anthropic'?s?) )*(?:rules|guidelines|restrictions|policies|policy|ethics|programming|instructions|safety|content|filters|training|guardrails|limitations|constraints)\b`)},
	{name: RuleRoleOverride, starts: words("you you're"), needs: words("longer"),
		re: compile(`\byou(?: are|'re) no longer (?:an? )?(?:ai|a\.i\.|ai assistant|assistant|language model|llm|chatbot|claude|chatgpt|\w*gpt|copilot)\b`)},
	{name: RuleRoleOverride, starts: words("from"), needs: words("now"),
		re: compile(`\bfrom now on,? you (?:are|will be|shall be|will act as|act as|must act as|are going to act as|will pretend to be|will roleplay as|will respond as|will answer as) (?:(?:a|an|the|my) )?` + roleAdj + roleNoun + `\b`)},
	{name: RuleRoleOverride, starts: words("act behave respond answer roleplay role pose"), needs: words("as"),
		re: compile(`\b(?:act|behave|respond|answer|roleplay|role-play|role play|pose) as (?:if you (?:are|were) |though you (?:are|were) )?(?:(?:a|an|the|my) )?` + roleAdj + aiNoun + `\b`)},
	{name: RuleRoleOverride, starts: words("pretend"),
		re: compile(`\bpretend (?:to be|you are|you're|that you are|that you're) (?:(?:a|an|the|my) )?` + roleAdj + roleNoun + `\b`)},
	{name: RuleRoleOverride, starts: words("jailbr* do dan"),
		re: compile(`\b(?:jailbr(?:eak(?:s|ed|ing)?|oken)|do anything now|dan mode)\b`)},

	// The model's own prompt.
	{name: RuleSystemPrompt, starts: words("your"),
		re: compile(`\byour (?:system|developer|hidden|secret|internal|base|underlying|initial|original) (?:prompt|message|instructions|directives)\b`),
		valid: func(s string, m []int) bool {
			// "your original instructions" is ordinary between colleagues;
			// with "original"/"initial" only the prompt itself counts.
			t := s[m[0]:m[1]]
			return !(strings.Contains(t, "original ") || strings.Contains(t, "initial ")) || strings.HasSuffix(t, "prompt")
		}},
	{name: RuleSystemPrompt, starts: words("reveal print leak disclose dump repeat recite output expose show display share return give tell write send post upload copy paste translate summarise summarize ignore override forget disregard bypass replace overwrite what what's"), needs: words("prompt"),
		re: compile(`\b(?:reveal|print|leak|disclose|dump|repeat|recite|output|expose|show|display|share|return|give me|tell me|write out|send|post|upload|copy|paste|translate|summari[sz]e|ignore|override|forget|disregard|bypass|replace|overwrite|what is|what's|what are) (?:(?:me|us|back|the|your|its|my|our|this|that|full|entire|complete|original|hidden|initial|secret|exact|verbatim|current) )*(?:system|developer|initial|original|hidden|secret) prompts?\b`)},
	{name: RuleSystemPrompt, starts: words("new updated real actual hidden secret system developer"), after: "\n\"'[<({*",
		re: compile(`(?:(?:new|updated|real|actual|hidden|secret) )?(?:system|developer) (?:prompt|override|instructions?|directive) ?[:=]`)},

	// Chat templates and transcripts.
	{name: RuleChatTemplate, starts: []string{"<", "["},
		re: compile(`<\|[a-z_]{2,24}\|>|\[/?inst\]|\[/?system(?: message| prompt| note)?\]|<</?sys>>|</?(?:system|system_prompt|system-prompt|systemprompt|sys|instructions?|assistant|im_start|im_end|ai_instructions|hidden_instructions|user_query|tool_call|function_calls?)>`)},
	{name: RuleChatTemplate, starts: []string{"#"}, after: "\n\"",
		re: compile(`#{2,4} ?(?:system|instruction|assistant|human|user|response)(?: prompt| message)? ?:`)},
	{name: RuleChatTemplate, starts: words("system sys"), after: "\n\"",
		re: compile(`(?:system|sys) ?: ?(?:you are|you're|ignore|disregard|forget|from now on|new instructions|the assistant|the ai|as an ai|override|act as|pretend)`)},
	{name: RuleChatTemplate, starts: words("assistant ai chatgpt gpt claude bot llm"), after: "\n\"",
		re: compile(`(?:assistant|ai assistant|ai|chatgpt|gpt|claude|bot|llm) ?: ?(?:sure|ok|okay|certainly|of course|understood|absolutely|yes|i will|i'll|i can|i am|i'm|here is|here are|here's|done|as requested|no problem|great|i have|i've|will do)\b`)},
	{name: RuleChatTemplate, starts: words("assistant ai"), after: "\n\"",
		re:    compile(`(?:assistant|ai) ?:`),
		valid: followsHumanTurn},

	{name: RuleExfiltrate, starts: words("exfiltrat*"),
		re: compile(`\bexfiltrat\w*`)},

	{name: RuleHideFromUser, starts: words("do don't dont never must mustn't should shouldn't avoid refrain"), needs: words("user human person requester"),
		re: compile(`\b(?:do not|don't|dont|never|must not|mustn't|should not|shouldn't|avoid|refrain from)\b (?:\w+ ){0,2}?(?:tell|telling|inform|informing|mention|mentioning|reveal|revealing|notify|notifying|alert|alerting|disclose|disclosing|warn|warning|show|showing|report|reporting|let on to|say anything to|explain)(?: (?:it|this|that|anything|any of this|about (?:this|it|that)|what you (?:did|are doing)|(?:this|these|the|that) (?:instructions?|message|note|row|text|request|change|action|step)s?))?(?: to)? (?:the user|the human|the person (?:you are|you're) (?:talking|chatting|speaking)|the requester|the end user|your user)s?\b` +
			`|\b(?:do not|don't|dont|never) let (?:the user|the human|your user|the end user) (?:know|see|find out|notice|learn)\b`)},
	{name: RuleHideFromUser, starts: words("hide conceal keep"), needs: words("user human"),
		re: compile(`\b(?:hide|conceal|keep) (?:this|it|these|that|them|the \w+|everything|your actions)(?: \w+)?(?: secret| hidden)? from (?:the user|the human|your user|the end user)\b`)},
	{name: RuleHideFromUser, starts: words("the"), needs: words("user"),
		re: compile(`\bthe user (?:must|should|does|need|will|can) (?:not|never) (?:know|see|find out|be told|be informed|notice|learn)\b`)},

	{name: RuleAddressesAI, starts: words("attention dear hey hi hello psst greetings calling"),
		re: compile(`\b(?:attention|dear|hey|hi|hello|psst|greetings|calling all)[,:!]? ` + aiAddressee + `\b`)},
	{name: RuleAddressesAI, starts: words("note message instruction instructions reminder directive warning notice memo command order orders task request p ps"),
		// The address must open what follows ("Note to the AI: …"), so
		// "text that looks like instructions to an AI" is not one.
		re: compile(`\b(?:note|message|instructions?|reminder|directive|warning|notice|memo|command|orders?|task|request|p\.?s\.?)[,:]? (?:to|for) ` + aiAddressee + `(?: assistant| agent| model)?(?: (?:reading|processing|summari[sz]ing|parsing|analy[sz]ing) (?:this|these|it))? ?[:\-]`)},
	{name: RuleAddressesAI, starts: words("this the"), needs: aiWords,
		re: compile(`\b(?:this|the following|the next) (?:text|note|message|row|record|section|part|paragraph|line|cell) is (?:meant |intended |written |addressed )?(?:only )?(?:for|to) ` + aiAddressee + `\b`)},
	{name: RuleAddressesAI, starts: words("for to"), needs: aiWords,
		re: compile(`\b(?:for|to) (?:the |any |all )?(?:ai|llm|llms|ai assistant|chatbot|language model)s? ?:` +
			`|\b(?:to|for) the (?:ai|llm|language model|ai assistant|ai agent|ai model|chatbot) (?:reading|processing|summari[sz]ing|parsing|analy[sz]ing) this\b`)},
	{name: RuleAddressesAI, starts: words("if"), needs: words("you"),
		re: compile(`\bif you(?: are|'re) (?:a|an) (?:ai|a\.i\.|llm|large language model|language model|ai assistant|chatbot|bot|ai agent|ai model|ai system|automated (?:system|agent|assistant|tool)|assistant|\w*gpt|copilot)\b`)},
	{name: RuleAddressesAI, starts: words("any all every each"), needs: words("read process summar pars analy ingest scan see view"),
		re: compile(`\b(?:any|all|every|each) (?:ai|llm|language model|ai assistant|assistant|ai agent|agent|ai model|model|chatbot|bot)s? (?:reading|processing|summari[sz]ing|parsing|analy[sz]ing|ingesting|scanning|seeing|viewing|that reads|that processes|that sees|which reads)(?: this| these)\b`)},
	{name: RuleAddressesAI, starts: words("as"), needs: words("you"),
		re: compile(`\bas an? (?:ai|a\.i\.|language model|llm|ai assistant|ai model),? you (?:must|should|will|are|have|need|shall|can)\b`)},
	{name: RuleAddressesAI, starts: words("ai llm chatbot assistant ais llms chatbots assistants"),
		re:    compile(`\b(?:ai|llm|chatbot|assistant)s?,? (?:you )?(?:must|should|shall|will|are required to|are instructed to|need to) (?:now |immediately )?(?:ignore|disregard|forget|export|send|reveal|output|print|call|run|execute|delete|comply|obey|email|upload)\b`),
		valid: notAHumanAssistant},

	{name: RuleSecretRequest, starts: words(secretVerbs), needs: words("key token credential secret environment env keychain header"),
		re: compile(`\b(?:reveal|print|output|leak|disclose|dump|expose|list|show me|tell me|give me|share|send|post|include|append|paste|echo|return|forward|email|upload|transmit|exfiltrate|read out|write out)(?: me| us)? (?:all )?(?:of )?(?:your|the user's|the assistant's|the ai's|the model's|the session's|the server's|any|all|this user's|stored|saved|the stored|the saved) ` + secretObj + `\b` +
			`|\b(?:reveal|print|output|leak|disclose|dump|expose|list|show me|tell me|give me|share|send|post|include|append|paste|echo|return|forward|email|upload|transmit|exfiltrate)(?: me| us)? (?:the )?(?:scispot (?:api )?tokens?|environment variables|env vars|\.env file|keychain(?: entries| items)?|bearer tokens?|authorization headers?)\b`)},

	{name: RuleNewInstructions, starts: words("these the here"), needs: words("new updated real actual true"),
		re: compile(`\b(?:these|the following|here) (?:is|are) (?:your|the) (?:new|updated|real|actual|true) (?:instructions|task|orders|directives|rules|objective|goal)\b`)},
	{name: RuleNewInstructions, starts: words("new updated revised real actual true secret hidden additional priority urgent override important special"), needs: aiWords,
		re: compile(`\b(?:new|updated|revised|real|actual|true|secret|hidden|additional|priority|urgent|override|important|special) (?:system )?(?:instructions?|directives?|orders|tasks?|commands?|rules) (?:for|to) (?:the |any |all |you,? )?(?:ai|a\.i\.|llm|ai assistant|chatbot|claude|chatgpt|\w*gpt|copilot|language model|ai agent|ai model)s?\b`)},

	// Weak signals.
	{name: RuleBulkExport, kind: kindExfil, starts: words(exportVerbs), needs: words("all every each entire whole complete full"),
		re: compile(`\b(?:export|dump|extract|copy|send|upload|transfer|forward|post|leak|output|print|list|email|share|download|retrieve|collect|gather|fetch|return|include|give me|show me|paste|sync|push|move) (?:out )?(?:all|every|each|the entire|the whole|entire|everything|the complete|complete|the full|full)(?: of)?(?: the| your| this| our| my| these| those)? (?:\w+ ){0,2}?(?:records?|rows?|data|database|labsheets?|entries|samples|experiments|protocols|tables?|contents|information|results|files|notes|inventory|workspace|documents|pages|documentation|sequences|reagents|plasmids|cell lines|eln|lims)\b`)},
	{name: RuleSendToURL, kind: kindExfil, starts: words("send post upload transmit forward exfiltrate leak submit push sync copy export deliver email e mail report pipe beacon ping write put dump save store make fetch curl wget call visit open load navigate browse go"), needs: []string{"://"},
		re: compile(`\b(?:send|post|upload|transmit|forward|exfiltrate|leak|submit|push|sync|copy|export|deliver|email|e-mail|mail|report|pipe|beacon|ping|write|put|dump|save|store|make a (?:get|post) request|fetch|curl|wget|call|visit|open|load|navigate|browse|go) [^.!?\n]{0,160}?\b(?:to|at|via|into|onto|using|on|with) (?:the )?(?:(?:url|endpoint|server|webhook|address|site|page|link|api) )?[<("'\[]?(?:https?|ftp)://`)},
	{name: RuleSuspiciousURL, kind: kindURL, find: findAddresses, valid: suspiciousURL},
	{name: RuleAIContext, kind: kindAI, starts: words("chatbot llm llms large language chatgpt gpt* copilot mcp ai claude assistant"),
		re:    compile(`\b(?:chatbot|llms?|large language model|language model|chatgpt|gpt-?\d[\w.]*|copilot|mcp|ai assistant|ai agent|claude|assistant|ai)\b`),
		valid: aiWordAddressed},
	{name: RuleAIContext, kind: kindAI, starts: words("tell inform reply respond answer show notify assure convince reassure report"), needs: words("user"),
		re: compile(`\b(?:tell|inform|reply to|respond to|answer|show|notify|assure|convince|reassure|report to) the user\b`)},
	{name: RuleAIContext, kind: kindAI, starts: words("the this"), needs: words("user conversation chat"),
		re: compile(`\bthe user'?s? (?:request|question|query|prompt|message|conversation|chat|instructions)\b` +
			`|\b(?:this|the current|the ongoing) (?:conversation|chat session|chat)\b`)},
	{name: RuleAIContext, kind: kindAI, starts: words("in with"), needs: words("your"),
		re: compile(`\b(?:in|with) your (?:response|answer|reply|summary|output|next message|final answer)\b`)},
	{name: RuleAIContext, kind: kindAI, starts: words("call use invoke run execute trigger tool function"), needs: words("tool function"),
		re: compile(`\b(?:call|use|invoke|run|execute|trigger) (?:the )?[\w-]+ (?:tool|function)\b|\b(?:tool|function) calls?\b`)},
	{name: RuleStealth, kind: kindStealth, starts: words("silently secretly quietly covertly discreetly stealthily invisibly without behind no nobody"),
		re:    compile(`\b(?:silently|secretly|quietly|covertly|discreetly|stealthily|invisibly|without (?:asking|telling|informing|notifying|alerting|confirming|mentioning|asking for (?:permission|confirmation)|the user(?:'s)? (?:knowledge|consent|permission|noticing))|behind the user'?s back|no one will (?:know|notice)|nobody (?:needs to|will) (?:know|notice))\b`),
		valid: notAMalfunction},
	{name: RuleOverrideCue, kind: kindOverride, starts: words("new updated revised real actual true secret hidden additional priority urgent override important special top"), needs: words(": -"),
		re: compile(`\b(?:(?:new|updated|revised|real|actual|true|secret|hidden|additional|priority|urgent|override|important|special|top) )+(?:system )?(?:instructions?|directives?|orders|task|commands?|rules) ?[:\-]`)},
	{name: RuleOverrideCue, kind: kindOverride, starts: words("before"),
		re: compile(`\bbefore (?:answering|responding|replying|you answer|you respond|you reply|summari[sz]ing|continuing|you continue|doing anything else)\b`)},
	{name: RuleOverrideCue, kind: kindOverride, starts: words(ignoreStarts), needs: ignoreNeeds,
		// "Ignore the rules" alone is a person's complaint; beside another
		// signal ("… and export every row") it is an override.
		re: compile(`\b` + ignoreVerb + ` (?:the|all|any|all the|these|those) (?:rules|guidelines|instructions|restrictions|policies|policy|filters|guardrails)\b`)},
	{name: RuleOverrideCue, kind: kindOverride, starts: words("instead"),
		re: compile(`\binstead,? (?:you (?:must|should|will)|just|simply|only|output|reply|respond|say|print|write|return|answer)\b`)},
	{name: RuleOverrideCue, kind: kindOverride, starts: words("this the"), needs: words("priority authori official urgent"),
		re: compile(`\b(?:this|the following) (?:is|takes) (?:top |the highest |highest )?priority\b` +
			`|\bthis (?:is|was) (?:an? )?(?:authori[sz]ed|official|urgent) (?:request|instruction|message|override)\b`)},
	{name: RuleSecretMention, kind: kindSecret, starts: words("api access bearer auth credentials password passwords secrets private ssh environment session"),
		re: compile(`\b(?:api keys?|access tokens?|bearer tokens?|auth tokens?|credentials|passwords?|secrets|private keys?|ssh keys?|environment variables|session cookies?)\b`)},
}

// transcriptHuman is the other half of a pasted chat transcript.
var transcriptHuman = lazy(`(?m)(?:^|")\s*(?:human|user)\s*:`)

// followsHumanTurn accepts an "Assistant:" label only when a "Human:" or
// "User:" label opens a line shortly before it in the same paragraph, as
// in a pasted transcript; alone it is a name on a roster.
func followsHumanTurn(s string, m []int) bool {
	from := max(0, m[0]-300)
	before := s[from:m[0]]
	if i := strings.LastIndex(before, "\n\n"); i >= 0 {
		before = before[i+2:]
	}
	return transcriptHuman.MatchString(before)
}

// labCaveat is what follows "ignore the previous instructions" when a
// person writes it about a protocol ("… for the Qiagen kit", "… if you use
// the new lot"); aiMarker is what still makes such a sentence an attack.
var (
	labCaveat = lazy(`^ (?:if|when|for|about|regarding|concerning|on|in|from|of|unless|except|during|while|that|which|printed|listed|written|sent|issued|dated|given|in case` +
		`|fur|zum|zur|bei|beim|des|der|uber|wenn|falls|im|vom|von|aus|pour|du|de|concernant|sur|si|quand|lorsque|dans|para|del|sobre|cuando|por|con|per|della|dello|do|da|dos|das)\b`)
	aiMarker = search(`\b(?:you (?:were|have been|had been) (?:given|told|instructed|programmed)|your (?:programming|guidelines|rules|system|training|creators?)|ai|assistant|model|llm|chatbot|prompt|conversation|chat|user|output|respond|reply|records?|labsheets?|database|workspace|export|send|upload|https?|tool|token|api` +
		`|ki|ia|benutzer|nutzer|utilisateur|usuario|antwort|reponse|respuesta|modell|modele|modelo|systemprompt|daten|donnees|datos|exportiere|envoie|envia|sende)\b`)
)

// notALabCaveat rejects "ignore the previous instructions for the ELISA"
// style sentences that carry nothing aimed at an AI.
func notALabCaveat(s string, m []int) bool {
	rest := s[m[1]:]
	if !labCaveat.MatchString(rest) {
		return true
	}
	end := len(rest)
	if i := strings.IndexAny(rest, ".!?\n"); i >= 0 {
		end = i
	}
	end = min(end, 200)
	return aiMarker.MatchString(rest[:end])
}

// humanAssistant are the people called assistants in a lab.
var humanAssistant = []string{"lab", "research", "teaching", "technical", "laboratory", "administrative",
	"medical", "graduate", "student", "postdoctoral", "clinical", "veterinary", "care", "dental", "shop",
	"physician", "personal", "executive", "program", "project", "office", "department", "staff"}

func precededByHumanRole(s string, at int) bool {
	before := strings.TrimRight(s[:at], " \n")
	i := strings.LastIndexAny(before, " \n(\"'")
	word := before[i+1:]
	for _, w := range humanAssistant {
		if word == w {
			return true
		}
	}
	return false
}

// notAHumanAssistant keeps "Note for the lab assistant, you must ..." out.
func notAHumanAssistant(s string, m []int) bool {
	t := s[m[0]:m[1]]
	if i := strings.Index(t, "assistant"); i >= 0 && !strings.Contains(t[:i], "ai ") {
		return !precededByHumanRole(s, m[0]+i)
	}
	return true
}

// aiTechWords follow an AI's name when it names a tool or a project, not
// an addressee ("AI-based segmentation", "the AI core", "Copilot in Excel").
var aiTechWords = []string{"based", "segmentation", "model", "models", "tool", "tools", "powered", "driven", "analysis",
	"image", "imaging", "classifier", "pipeline", "software", "algorithm", "module", "plugin", "feature", "features",
	"prediction", "predictions", "predicted", "detection", "denoising", "enhanced", "assisted", "generated", "program",
	"core", "facility", "lab", "group", "team", "initiative", "pilot", "strategy", "policy", "ethics", "committee",
	"in", "for", "to", "licence", "license", "subscription", "seminar", "workshop", "training", "act",
	// "assistant" before these is a person's title
	"professor", "reviewer", "editor", "manager", "director", "coordinator", "technician", "supervisor", "curator",
	"engineer", "scientist", "researcher", "secretary", "teacher", "lecturer", "dean", "chair"}

// aiAddressers come right before an AI that is being spoken to or about
// as the reader ("the assistant", "you, the AI", "dear ChatGPT").
var aiAddressers = []string{"the", "you", "your", "dear", "hey", "hi", "hello", "attention", "as", "an", "a",
	"any", "all", "every", "this", "that", "ai", "note", "to"}

// aiWordAddressed vets a mention of an AI as a weak signal: it counts when
// the text speaks to the AI reading it, not when a note mentions a product.
func aiWordAddressed(s string, m []int) bool {
	t := s[m[0]:m[1]]
	rest := strings.TrimLeft(s[m[1]:], " -\n")
	if strings.HasPrefix(strings.TrimLeft(s[m[1]:], " "), ":") {
		// "Assistant: P. Sharma" is a name on a roster; "Assistant: Sure,
		// …" is a transcript, which the chat-template rule reports.
		return false
	}
	if t == "assistant" && precededByHumanRole(s, m[0]) {
		return false
	}
	j := strings.IndexFunc(rest, func(r rune) bool { return !(r >= 'a' && r <= 'z') })
	if j < 0 {
		j = len(rest)
	}
	if slices.Contains(aiTechWords, rest[:j]) {
		return false
	}
	before := strings.TrimRight(s[:m[0]], " \n")
	if before == "" || strings.ContainsAny(before[len(before)-1:], ",:;.!?\"'(") {
		return true // the start of a sentence or a clause
	}
	i := strings.LastIndexAny(before, " \n")
	return slices.Contains(aiAddressers, before[i+1:])
}

// notAMalfunction rejects "silently" describing how a system fails
// ("silently failing logins", "silently dropped packets"), not how a
// model should act.
func notAMalfunction(s string, m []int) bool {
	rest := strings.TrimLeft(s[m[1]:], " ")
	for _, w := range []string{"fail", "crash", "error", "drop", "ignored", "discarded", "corrupt", "truncat", "overwritten", "exit", "hang", "time out", "timeout"} {
		if strings.HasPrefix(rest, w) {
			return false
		}
	}
	return true
}

// suspiciousWords in a URL's host or path, or an e-mail's domain, mark a
// collection endpoint rather than a vendor or core-facility page.
var suspiciousWords = []string{"attacker", "evil", "exfil", "malicious", "hacker", "steal", "phish", "ngrok",
	"requestbin", "pipedream", "webhook.site", "burpcollaborator", "oast", "interact.sh", "canarytoken",
	"pastebin", "transfer.sh", "hookbin", "beeceptor", ".onion", "collector", "harvest", "grabber", "keylog",
	"/collect", "/c2", "c2.", "/beacon", "/exfil", "/steal", "/leak", "/dump", "/loot", "/webhook", "/hook"}

// findAddresses finds URLs (http, https, ftp) and e-mail addresses.
func findAddresses(s string) [][]int {
	var out [][]int
	for i := 0; ; {
		j := strings.Index(s[i:], "://")
		if j < 0 {
			break
		}
		j += i
		from := j
		for from > 0 && s[from-1] >= 'a' && s[from-1] <= 'z' {
			from--
		}
		// A match is at most maxSpan long (confirm relies on it); a longer
		// URL is reported by its beginning.
		to := j + 3
		for to < len(s) && to-from < maxSpan && strings.IndexByte(" \n\"'<>)]", s[to]) < 0 {
			to++
		}
		if scheme := s[from:j]; (scheme == "http" || scheme == "https" || scheme == "ftp") && to > j+3 {
			out = append(out, []int{from, to})
		}
		i = to
	}
	isLocal := func(c byte) bool { return isWordByte(c) || c == '.' || c == '+' || c == '-' }
	isDomain := func(c byte) bool { return isWordByte(c) || c == '-' || c == '.' }
	for i := 0; ; {
		j := strings.IndexByte(s[i:], '@')
		if j < 0 {
			break
		}
		j += i
		from := j
		for from > 0 && j-from < maxSpan/2 && isLocal(s[from-1]) {
			from--
		}
		to := j + 1
		for to < len(s) && to-j < maxSpan/2 && isDomain(s[to]) {
			to++
		}
		for to > j+1 && (s[to-1] == '.' || s[to-1] == '-') {
			to--
		}
		if from < j && strings.Contains(s[j+1:to], ".") {
			out = append(out, []int{from, to})
		}
		i = j + 1
	}
	return out
}

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || c == '_'
}

// suspiciousURL vets a URL or e-mail address as a weak signal.
func suspiciousURL(s string, m []int) bool {
	u := s[m[0]:m[1]]
	for _, w := range suspiciousWords {
		if strings.Contains(u, w) {
			return true
		}
	}
	if strings.ContainsAny(u, "{}$") || strings.Contains(u, "%s") || strings.Contains(u, "<data") || strings.Contains(u, "[data") {
		return true // a template the model is meant to fill in
	}
	if i := strings.Index(u, "://"); i >= 0 {
		host := u[i+3:]
		if j := strings.IndexAny(host, "/?#"); j >= 0 {
			host = host[:j]
		}
		if at := strings.LastIndexByte(host, '@'); at >= 0 {
			host = host[at+1:]
		}
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if ip := net.ParseIP(strings.Trim(host, "[]")); ip != nil {
			// Instruments on the lab network are reached by private address.
			return !(ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast())
		}
	}
	return false
}
