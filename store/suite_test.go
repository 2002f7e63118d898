package store

import "testing"

// suite is the behaviour every backend must show. Each case gets a backend
// from which it opens as many fresh stores as it needs.
var suite = []struct {
	name string
	run  func(t *testing.T, b backend)
}{
	{"PutGet", testPutGet},
	{"DeleteTombstone", testDeleteTombstone},
	{"NotFound", testNotFound},
	{"NamespacesSeparate", testNamespacesSeparate},
	{"InvalidInput", testInvalidInput},
	{"ListPagination", testListPagination},
	{"ListBounds", testListBounds},
	{"ChangesFeed", testChangesFeed},
	{"ChangesNamespaceFilter", testChangesNamespaceFilter},
	{"ApplyLastWriterWins", testApplyLastWriterWins},
	{"ApplyRefusesReusedSeq", testApplyRefusesReusedSeq},
	{"JoinLargeVector", testJoinLargeVector},
	{"ApplyRejects", testApplyRejects},
	{"ApplyClockSkew", testApplyClockSkew},
	{"ApplyGap", testApplyGap},
	{"ApplyManySmallRecords", testApplyManySmallRecords},
	{"ApplyLargeRecords", testApplyLargeRecords},
	{"LocalWriteAfterRemote", testLocalWriteAfterRemote},
	{"Join", testJoin},
	{"SummariesConsistent", testSummariesConsistent},
	{"SnapshotAbove", testSnapshotAbove},
	{"SnapshotIsolation", testSnapshotIsolation},
	{"ConcurrentWriters", testConcurrentWriters},
	{"Changed", testChanged},
	{"Closed", testClosed},
	{"CloseWaitsForSnapshot", testCloseWaitsForSnapshot},
	{"CloseUnderLoad", testCloseUnderLoad},
	{"WriteAllStamps", testWriteAllStamps},
	{"WriteAllIdempotent", testWriteAllIdempotent},
	{"WriteAllClientStamps", testWriteAllClientStamps},
	{"WriteAllInvalid", testWriteAllInvalid},
	{"WriteAllMany", testWriteAllMany},
	{"WriteAllClosed", testWriteAllClosed},
	{"Drop", testDrop},
	{"DropMany", testDropMany},
	{"DropRechecks", testDropRechecks},
	{"Collect", testCollect},
	{"CollectNoResurrect", testCollectNoResurrect},
	{"DropAfterAndRefill", testDropAfterAndRefill},
	{"RefillLarge", testRefillLarge},
	{"RefillAnswersTheHoleAsked", testRefillAnswersTheHoleAsked},
}

// TestStore runs the shared suite against every backend.
func TestStore(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range suite {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, b)
				})
			}
		})
	}
}
