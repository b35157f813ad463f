/* gen-text: scg-mock's prose and token counts (gen.h). Text is words
 * from a vocabulary of a few hundred ordinary English words, so two
 * generated texts share no run of five words unless they are the same draw
 * (a near-duplicate filter sees them as unrelated). */
#include "gen.h"
#include "rng.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

static const char *const vocab[] = {
	"able", "about", "above", "accept", "across", "act", "add", "afraid",
	"after", "again", "against", "age", "ago", "agree", "air", "all",
	"allow", "almost", "alone", "along", "already", "always", "amount",
	"animal", "answer", "any", "appear", "apple", "area", "arm", "around",
	"arrive", "art", "ask", "autumn", "away", "baby", "back", "bad", "bag",
	"ball", "bank", "base", "basket", "bear", "beat", "beauty", "bed",
	"before", "begin", "behind", "bell", "best", "better", "between", "big",
	"bird", "bit", "black", "block", "blue", "board", "boat", "body",
	"bone", "book", "born", "both", "bottom", "box", "branch", "bread",
	"break", "bridge", "bright", "bring", "broad", "brother", "brown",
	"build", "busy", "buy", "cake", "call", "calm", "camp", "candle",
	"capital", "car", "care", "carry", "case", "cat", "catch", "cause",
	"cell", "center", "chair", "chance", "change", "cheap", "check",
	"child", "choose", "circle", "city", "class", "clean", "clear",
	"climb", "clock", "close", "cloud", "coast", "coat", "cold", "collect",
	"color", "common", "company", "cook", "cool", "copy", "corner",
	"count", "country", "course", "cover", "cow", "crowd", "cup", "cut",
	"dance", "dark", "daughter", "day", "deal", "dear", "decide", "deep",
	"describe", "desert", "design", "desk", "detail", "develop", "differ",
	"dinner", "direct", "doctor", "dog", "door", "double", "down", "draw",
	"dream", "dress", "drink", "drive", "drop", "dry", "during", "early",
	"earth", "east", "easy", "eat", "edge", "effect", "egg", "eight",
	"empty", "end", "energy", "enjoy", "enough", "enter", "equal",
	"evening", "event", "every", "exact", "example", "explain", "eye",
	"face", "fact", "fair", "fall", "family", "famous", "far", "farm",
	"fast", "father", "favor", "feel", "field", "fill", "final", "find",
	"fine", "finger", "finish", "fire", "first", "fish", "flat", "floor",
	"flower", "fly", "follow", "food", "foot", "forest", "forget", "form",
	"free", "fresh", "friend", "front", "fruit", "full", "game", "garden",
	"gather", "gentle", "gift", "girl", "give", "glad", "glass", "gold",
	"good", "grass", "gray", "great", "green", "ground", "group", "grow",
	"guess", "guide", "hair", "half", "hall", "hand", "happy", "hard",
	"harbor", "hat", "head", "hear", "heart", "heavy", "help", "hill",
	"history", "hold", "hole", "home", "hope", "horse", "hot", "hour",
	"house", "huge", "hundred", "hunt", "idea", "inch", "island", "join",
	"journey", "jump", "just", "keep", "kettle", "kind", "king", "kitchen",
	"knife", "know", "lake", "lamp", "land", "large", "last", "late",
	"laugh", "lead", "leaf", "learn", "leave", "left", "letter", "level",
	"library", "life", "lift", "light", "line", "list", "listen", "little",
	"live", "long", "look", "loud", "love", "low", "lucky", "machine",
	"main", "make", "map", "market", "match", "meadow", "meal", "measure",
	"meet", "melody", "metal", "middle", "mile", "milk", "mind", "minute",
	"mirror", "modern", "moment", "money", "month", "moon", "morning",
	"mother", "mountain", "move", "music", "narrow", "nature", "near",
	"neck", "need", "new", "next", "night", "noise", "north", "note",
	"number", "ocean", "offer", "office", "old", "open", "orange", "order",
	"paint", "paper", "park", "part", "party", "pass", "path", "pattern",
	"peace", "pencil", "people", "piano", "picture", "piece", "place",
	"plain", "plan", "plant", "play", "pocket", "poem", "point", "pond",
	"poor", "possible", "pound", "power", "present", "press", "pretty",
	"print", "problem", "promise", "proud", "pull", "push", "question",
	"quick", "quiet", "rain", "raise", "reach", "read", "ready", "reason",
	"record", "red", "remember", "repeat", "rest", "rich", "ride", "right",
	"ring", "river", "road", "rock", "roof", "room", "root", "rope",
	"rough", "round", "row", "rule", "run", "safe", "sail", "salt", "sand",
	"save", "school", "science", "sea", "season", "seat", "second", "seed",
	"sell", "send", "sense", "seven", "shadow", "shape", "share", "sharp",
	"sheep", "shell", "shine", "ship", "shoe", "shop", "shore", "short",
	"show", "side", "sign", "silver", "simple", "sing", "sister", "sit",
	"size", "sky", "sleep", "slow", "small", "smile", "snow", "soft",
	"soil", "song", "soon", "sound", "south", "space", "speak", "special",
	"spend", "spring", "square", "stand", "star", "start", "station",
	"stay", "steady", "step", "stone", "store", "story", "straight",
	"strange", "stream", "street", "strong", "study", "sugar", "summer",
	"sun", "supper", "sure", "surprise", "sweet", "swim", "table", "tail",
	"talk", "tall", "teach", "team", "tell", "thick", "thin", "think",
	"thread", "through", "tiny", "tired", "today", "together", "tomorrow",
	"tool", "top", "touch", "toward", "town", "track", "trade", "train",
	"travel", "tree", "trip", "true", "try", "turn", "twelve", "under",
	"until", "useful", "valley", "village", "visit", "voice", "wait",
	"walk", "wall", "warm", "wash", "watch", "water", "wave", "weather",
	"week", "weight", "west", "wheel", "white", "whole", "wide", "wild",
	"wind", "window", "winter", "wise", "wish", "wonder", "wood", "word",
	"work", "world", "write", "yard", "year", "yellow", "young",
};
#define NVOCAB (sizeof vocab / sizeof vocab[0])

long mock_tokens(const char *s)
{
	/* close to a BPE vocabulary such as o200k on English: a common word
	 * of up to 8 letters is one token, longer ones split, numbers go in
	 * groups of three digits, and a run of punctuation ("}," or '":"')
	 * takes a token for every two characters */
	long tokens = 0, letters = 0, digits = 0, punct = 0;
	for (const unsigned char *p = (const unsigned char *)s;; p++) {
		int c = *p;
		/* a UTF-8 continuation byte belongs to the character before it */
		if ((c & 0xc0) == 0x80)
			continue;
		int letter = c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		int digit = c >= '0' && c <= '9';
		int space = c && strchr(" \t\n\r\f\v", c);
		if (!letter && letters) {
			tokens += (letters + 7) / 8;
			letters = 0;
		}
		if (!digit && digits) {
			tokens += (digits + 2) / 3;
			digits = 0;
		}
		if ((letter || digit || space || !c) && punct) {
			tokens += (punct + 1) / 2;
			punct = 0;
		}
		if (!c)
			break;
		letters += letter;
		digits += digit;
		punct += !letter && !digit && !space;
	}
	return tokens;
}

const char *mock_word(struct rng *r)
{
	return vocab[rng_below(r, NVOCAB)];
}

void mock_words(struct buf *b, struct rng *r, int n)
{
	for (int i = 0; i < n; i++) {
		if (i)
			buf_addc(b, ' ');
		buf_adds(b, mock_word(r));
	}
}

static void sentence(struct buf *b, struct rng *r)
{
	size_t start = b->len;
	mock_words(b, r, (int)rng_range(r, 6, 17));
	if (b->p[start] >= 'a' && b->p[start] <= 'z')
		b->p[start] -= 'a' - 'A';
	buf_addc(b, '.');
}

char *mock_prose(uint64_t key)
{
	struct rng r;
	rng_init(&r, key, "", "scg-mock", "prose");
	struct buf b = {0};
	buf_addf(&b, "[%08x]", (unsigned)(key >> 32));
	int n = 1 + (int)rng_below(&r, 3);
	for (int i = 0; i < n; i++) {
		buf_addc(&b, ' ');
		sentence(&b, &r);
	}
	return buf_steal(&b);
}

json_t *mock_object(uint64_t key)
{
	struct rng r;
	rng_init(&r, key, "", "scg-mock", "object");
	struct buf b = {0};
	mock_words(&b, &r, (int)rng_range(&r, 6, 17));
	json_t *o = json_object();
	json_object_set_new(o, "tag", json_sprintf("%08x", (unsigned)(key >> 32)));
	json_object_set_new(o, "answer", json_string(b.p));
	buf_free(&b);
	return o;
}
